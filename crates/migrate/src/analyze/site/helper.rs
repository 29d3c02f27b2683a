//! Helper summaries: following a function that uploads one of its parameters and returns the
//! `s3://` URI of that object (shape 2), in its own file. The crate index stores the summary of
//! every helper of the crate with a wanted name; a call site in this file is summarised here.

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, Stmt};

use super::payload::{payload_source, Payload};
use super::syntax::{object_path, peel_parens};
use crate::analyze::collect::path_ident;
use crate::analyze::crate_scope::HelperUpload;
use crate::analyze::file::{fn_params, FileCtx};
use crate::analyze::resolve::{strip, Resolver};

/// Follow a helper in its own file: does it upload one of its parameters and return the
/// `s3://` URI of that object? Err says why not (completing "but ...").
pub(crate) fn summarize_helper<'a>(
    ctx: &FileCtx<'a, '_>,
    sig: &'a syn::Signature,
    block: &'a syn::Block,
) -> Result<HelperUpload, String> {
    let text = ctx.text;
    let mut c = crate::analyze::collect::Collector::new(text, text.range(block.span()));
    let (params, _) = fn_params(sig);
    c.add_params(params.iter().copied());
    c.add_tokens(block.to_token_stream());
    syn::visit::Visit::visit_block(&mut c, block);
    let helper_info = c.info;
    let helper_resolver = Resolver {
        ctx,
        info: &helper_info,
    };
    // The helper's value: the tail `Ok(uri)` or `uri`.
    let Some(Stmt::Expr(tail, None)) = block.stmts.last() else {
        return Err("it does not end in the URI it returns".into());
    };
    let returned = match peel_parens(tail) {
        Expr::Call(ok)
            if ok.args.len() == 1
                && matches!(&*ok.func, Expr::Path(p) if p.path.is_ident("Ok")) =>
        {
            &ok.args[0]
        }
        e => e,
    };
    let tail_at = text.range(tail.span()).start;
    let Some(path) = helper_resolver.resolve(returned, tail_at).s3_path() else {
        return Err("what it returns is not an s3:// URI built there".into());
    };
    let put = helper_info.chains.iter().find_map(|ch| {
        let p = ch.position("put_object")?;
        (ch.range.end <= tail_at
            && object_path(&helper_resolver, &ch.links[p + 1..], ch.range.start).as_ref()
                == Some(&path))
        .then_some((ch, p))
    });
    let Some((put, p)) = put else {
        let why = helper_info.chains.iter().find_map(|ch| {
            let p = ch.position("put_object")?;
            let put_path = object_path(&helper_resolver, &ch.links[p + 1..], ch.range.start)?;
            crate::analyze::value::key_mismatch(&path, &put_path)
        });
        return Err(match why {
            Some(why) => format!("it uploads no object with that name: its upload {why}"),
            None => "it uploads no object with that name".into(),
        });
    };
    let put_links = &put.links[p + 1..];
    let Some(body_arg) = put_links
        .iter()
        .find_map(|m| (m.method == "body" && m.args.len() == 1).then(|| &m.args[0]))
    else {
        return Err("its put_object sets no body".into());
    };
    let Some((Payload::Bytes(pe), _)) = payload_source(&helper_info, body_arg, put.range.start)
    else {
        return Err("its payload is not a recognised ByteStream source".into());
    };
    // The payload must be one of the helper's parameters: the caller's argument replaces it.
    let Some(param) = path_ident(pe) else {
        return Err("its payload is computed inside it".into());
    };
    let Some(payload_param) = params
        .iter()
        .position(|pat| matches!(pat, syn::Pat::Ident(i) if i.ident == param))
    else {
        return Err("its payload is computed inside it".into());
    };
    let content_type = put_links
        .iter()
        .find(|m| m.method == "content_type" && m.args.len() == 1)
        .filter(|m| matches!(strip(&m.args[0]), Expr::Lit(_)))
        .map(|m| text.original[text.range(m.args[0].span())].to_owned());
    Ok(HelperUpload {
        payload_param,
        content_type,
    })
}
