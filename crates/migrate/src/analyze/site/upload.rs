//! Where the request's object comes from: the `put_object` of the same bucket and key in this
//! function (shape 1, including stored invoke builders), or a helper that uploads and returns
//! the URI (shape 2, in this file or another of the crate). Either way the result is a
//! [`RewritePlan`], or the reason the site is left alone.

use std::ops::Range;

use syn::{Expr, ExprMethodCall};

use super::helper::summarize_helper;
use super::payload::{payload_source, Payload};
use super::request::{CallSite, InputLocation, StmtLoc};
use super::syntax::{object_path, one_line, peel, some_arg};
use crate::analyze::collect::{path_ident, Chain};
use crate::analyze::crate_scope::{HelperUpload, Resolution};
use crate::analyze::file::ModuleInfo;
use crate::analyze::method::MethodTarget;
use crate::analyze::resolve::{strip, Part, Resolved, Resolver};
use crate::verdict::SkipReason;

/// Upload settings that need no note when the upload goes away: where it goes, what it sends.
const SETTINGS_THAT_GO_WITH_THE_UPLOAD: &[&str] = &[
    "bucket",
    "set_bucket",
    "key",
    "set_key",
    "body",
    "set_body",
    "content_type",
    "set_content_type",
    "send",
    "customize",
    "content_length",
    "set_content_length",
];

/// What the rewrite of one site works from: where the input location is set, the upload (when
/// it is in this function), the statement that goes with it, the payload and its content type.
pub(super) struct RewritePlan<'p, 'a> {
    /// The call that sets the input location (replaced by the body call).
    pub loc: &'p InputLocation<'a>,
    /// The URI expression it is given.
    pub uri: &'a Expr,
    /// The upload chain, when it is in this function (shape 1).
    pub put: Option<&'p Chain<'a>>,
    /// The calls on the upload request after `put_object()`.
    pub put_links: Vec<&'a ExprMethodCall>,
    /// The statement that goes: the upload, or the `let` of the helper's result.
    pub put_stmt: StmtLoc,
    pub payload: Payload<'a>,
    /// The upload's content type, as written, moved onto the invoke.
    pub content_type: Option<String>,
    pub content_type_range: Option<Range<usize>>,
}

/// A call of a helper that may upload and return the URI.
pub(super) struct HelperCall<'a> {
    name: String,
    args: Vec<&'a Expr>,
    bound: Option<usize>,
    source: HelperSource<'a>,
}

/// Where the called helper is defined.
pub(super) enum HelperSource<'a> {
    /// In this file.
    Local {
        sig: &'a syn::Signature,
        block: &'a syn::Block,
    },
    /// In another file of the crate, already followed there.
    Crate {
        upload: Result<HelperUpload, String>,
    },
    /// The name may mean several functions of the crate (described).
    Ambiguous(Vec<String>),
    /// The call cannot be followed (why, completing "but ...").
    Refused(String),
}

impl<'a> CallSite<'_, 'a, '_> {
    /// Shape 1: the `put_object` in this function that uploads the object the URI `value`
    /// names, checked to be removable, with its payload and content type.
    pub(super) fn upload_plan<'p>(
        &'p self,
        loc: &'p InputLocation<'a>,
        value: &'a Expr,
        links: &[&'a ExprMethodCall],
        claimed_uploads: &mut Vec<Range<usize>>,
    ) -> Result<(RewritePlan<'p, 'a>, Vec<String>), SkipReason> {
        let resolver = Resolver {
            ctx: self.ctx,
            info: self.info,
        };
        let uri = resolver.resolve(value, self.range(loc.call).start);
        let Some(path) = uri.s3_path() else {
            return Err(self.unresolved(value, &uri));
        };
        let (put, put_link) = self.matching_upload(&resolver, &path, &uri, value)?;
        let put_links: Vec<&'a ExprMethodCall> = put.links[put_link + 1..].to_vec();
        let put_stmt = self.removable_upload_statement(put)?;
        if claimed_uploads.contains(&put.range) {
            return Err(SkipReason::Unsupported(
                "the same upload feeds several invokes".into(),
            ));
        }
        let payload = self.upload_payload(put, &put_links)?;
        let notes = dropped_settings_note(&put_links).into_iter().collect();
        let already_typed = links
            .iter()
            .any(|m| m.method == "content_type" || m.method == "set_content_type");
        let content_type_range = if already_typed {
            None
        } else {
            self.content_type_range(&put_links)
        };
        let content_type = content_type_range.clone().map(|r| self.src(r).to_owned());
        claimed_uploads.push(put.range.clone());
        let plan = RewritePlan {
            loc,
            uri: value,
            put: Some(put),
            put_links,
            put_stmt,
            payload,
            content_type,
            content_type_range,
        };
        Ok((plan, notes))
    }

    /// The last `put_object` before the invoke whose bucket and key spell `path`, with the
    /// position of its `put_object` link; else why none is (named in the reason's order:
    /// uploaded after, a multipart upload, another key, a parameter, a helper, nothing).
    fn matching_upload<'c>(
        &'c self,
        resolver: &Resolver<'_, 'a, '_>,
        path: &[Part],
        uri: &Resolved,
        value: &Expr,
    ) -> Result<(&'c Chain<'a>, usize), SkipReason> {
        let chain = self.chain();
        let mut before = None;
        let mut after = None;
        let mut mismatch = None;
        for c in &self.info.chains {
            let Some(p) = c.position("put_object") else {
                continue;
            };
            let Some(put_path) = object_path(resolver, &c.links[p + 1..], c.range.start) else {
                continue;
            };
            if put_path != path {
                mismatch = mismatch.or_else(|| self.mismatch_reason(c, path, &put_path));
                continue;
            }
            if c.range.end <= chain.range.start {
                before = Some((c, p));
            } else if after.is_none() {
                after = Some(c);
            }
        }
        if let Some(found) = before {
            return Ok(found);
        }
        if let Some(c) = after {
            let (l, _) = self.ctx.text.line_col(c.range.start);
            return Err(SkipReason::InvokeBeforeUpload(format!(
                "the upload is on line {l}"
            )));
        }
        if let Some(why) = self.multipart_reason(resolver, path) {
            return Err(SkipReason::Unsupported(why));
        }
        if let Some(why) = mismatch {
            return Err(SkipReason::UriMismatch(why));
        }
        if let Some(param) = uri.params.first() {
            return Err(SkipReason::UriParameter(format!(
                "built from parameter `{param}`"
            )));
        }
        if let Some(why) = self.helper_upload_reason() {
            return Err(SkipReason::Unsupported(why));
        }
        Err(SkipReason::NoUpload(format!(
            "`{}`",
            one_line(self.src(self.range(value)))
        )))
    }

    /// Why the upload `c` of `put_path` is not the object at `path`.
    fn mismatch_reason(&self, c: &Chain<'a>, path: &[Part], put_path: &[Part]) -> Option<String> {
        let why = crate::analyze::value::key_mismatch(path, put_path)?;
        if let Some((keyword, at)) = self.loop_around(&c.range) {
            return Some(self.loop_reason(c, keyword, at));
        }
        let line = self.ctx.text.line_col(c.range.start).0;
        Some(format!("the upload on line {line} {why}"))
    }

    /// The upload's statement, when deleting it is all the rewrite needs: not in a loop the
    /// invoke is not in, a plain statement, not opted out, in a block around the invoke.
    fn removable_upload_statement(&self, put: &Chain<'a>) -> Result<StmtLoc, SkipReason> {
        if let Some((keyword, at)) = self.loop_around(&put.range) {
            return Err(SkipReason::Unsupported(self.loop_reason(put, keyword, at)));
        }
        let Some(put_stmt) = self.deletable_stmt(put) else {
            if let Some(why) = self.stored_put_reason(put) {
                return Err(SkipReason::Unsupported(why));
            }
            return Err(SkipReason::Unsupported(
                "the put_object statement is not a plain `...send().await` statement".into(),
            ));
        };
        if self.opted_out(put_stmt.range.start) {
            return Err(SkipReason::OptOut);
        }
        if !self.info.blocks[put_stmt.block]
            .range
            .contains(&self.chain().range.start)
        {
            return Err(SkipReason::Unsupported(
                "the upload is in a block that does not enclose the invoke".into(),
            ));
        }
        Ok(put_stmt)
    }

    /// What the upload sends, from its `body(..)`/`set_body(Some(..))`.
    fn upload_payload(
        &self,
        put: &Chain<'a>,
        put_links: &[&'a ExprMethodCall],
    ) -> Result<Payload<'a>, SkipReason> {
        let Some(body_arg) = put_links
            .iter()
            .find_map(|m| match m.method.to_string().as_str() {
                "body" if m.args.len() == 1 => Some(&m.args[0]),
                "set_body" if m.args.len() == 1 => some_arg(&m.args[0]),
                _ => None,
            })
        else {
            return Err(SkipReason::Unsupported(
                "the put_object sets no body".into(),
            ));
        };
        match payload_source(self.info, body_arg, put.range.start) {
            Some((payload, _)) => Ok(payload),
            None => Err(SkipReason::Unsupported(format!(
                "payload `{}` is not a recognised ByteStream source",
                one_line(self.src(self.range(body_arg)))
            ))),
        }
    }

    /// The range of the upload's content type argument, if it sets one.
    fn content_type_range(&self, put_links: &[&'a ExprMethodCall]) -> Option<Range<usize>> {
        put_links
            .iter()
            .find_map(|m| match m.method.to_string().as_str() {
                "content_type" if m.args.len() == 1 => Some(self.range(&m.args[0])),
                "set_content_type" if m.args.len() == 1 => {
                    some_arg(&m.args[0]).map(|a| self.range(a))
                }
                _ => None,
            })
    }

    pub(super) fn unresolved(&self, value: &Expr, uri: &Resolved) -> SkipReason {
        let v = strip(value);
        if let Some(name) = path_ident(v) {
            if self.info.params.contains(&name)
                && self.info.find_let(&name, self.range(value).start).is_none()
            {
                return SkipReason::UriParameter(format!("`{name}`"));
            }
        }
        // An upload is right here: say why the URI cannot be matched to it.
        let resolver = Resolver {
            ctx: self.ctx,
            info: self.info,
        };
        let upload = self.info.chains.iter().find_map(|c| {
            let p = c.position("put_object")?;
            let path = object_path(&resolver, &c.links[p + 1..], c.range.start)?;
            Some((self.ctx.text.line_col(c.range.start).0, path))
        });
        if let Some((line, path)) = upload {
            return SkipReason::UriMismatch(format!(
                "it is `{}`, which does not start with a literal `s3://bucket/`, so it cannot be matched to the upload on line {line} (`s3://{}`)",
                crate::analyze::value::describe(&uri.parts),
                crate::analyze::value::describe(&path)
            ));
        }
        if let Some(p) = uri.params.first() {
            return SkipReason::UriParameter(format!("built from parameter `{p}`"));
        }
        SkipReason::NoUpload(format!(
            "`{}` is not an s3:// URI built here",
            one_line(self.src(self.range(value)))
        ))
    }

    /// `helper(args).await?` or `self.helper(args).await?` (directly or through a `let`) where
    /// `helper` is a function or method of this file, or a module-level function of another
    /// file of the crate (when the scan resolved the crate): its arguments, the caller's `let`
    /// index if bound, and what following it found.
    pub(super) fn helper_call(&self, value: &'a Expr, at: usize) -> Option<HelperCall<'a>> {
        let mut e = strip(value);
        let mut bound = None;
        if let Some(name) = path_ident(e) {
            let li = self.info.find_let(&name, at)?;
            bound = Some(li);
            e = self.info.lets[li].init?;
        }
        let (segments, args): (Vec<String>, Vec<&'a Expr>) = match peel(e) {
            Expr::Call(call) => {
                let Expr::Path(f) = &*call.func else {
                    return None;
                };
                if f.qself.is_some() || f.path.leading_colon.is_some() {
                    return None;
                }
                let segments = f
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                (segments, call.args.iter().collect())
            }
            Expr::MethodCall(m) => {
                let call_at = self.range(m).start;
                let source = match crate::analyze::method::resolve_method(
                    self.ctx, self.info, m, call_at,
                )? {
                    MethodTarget::Local { sig, block } => HelperSource::Local { sig, block },
                    MethodTarget::Crate(entry) => HelperSource::Crate {
                        upload: entry.summary.clone(),
                    },
                    MethodTarget::Ambiguous(candidates) => HelperSource::Ambiguous(candidates),
                    MethodTarget::Refused(why) => HelperSource::Refused(why),
                };
                return Some(HelperCall {
                    name: m.method.to_string(),
                    args: m.args.iter().collect(),
                    bound,
                    source,
                });
            }
            _ => return None,
        };
        let name = segments.last()?.clone();
        let local = (segments.len() == 1)
            .then(|| {
                self.ctx
                    .helpers
                    .iter()
                    .find(|h| h.name == name && !h.method && h.owner.is_none())
            })
            .flatten();
        let source = match local {
            Some(h) => HelperSource::Local {
                sig: h.sig,
                block: h.block,
            },
            None => {
                let Some(scope) = self.ctx.scope else {
                    // Maybe defined in another file of the crate: the scan looks there.
                    self.ctx.wanted.borrow_mut().push(name);
                    return None;
                };
                let site = self.chain().range.start;
                let mut inline: Vec<&ModuleInfo> = self
                    .ctx
                    .modules
                    .iter()
                    .filter(|m| m.name.is_some() && m.range.contains(&site))
                    .collect();
                inline.sort_by_key(|m| m.range.start);
                let inline: Vec<String> = inline.iter().filter_map(|m| m.name.clone()).collect();
                match scope.resolve(&inline, &segments) {
                    Resolution::NotInCrate => return None,
                    Resolution::Ambiguous(candidates) => HelperSource::Ambiguous(candidates),
                    Resolution::Found(entry) => HelperSource::Crate {
                        upload: entry.summary.clone(),
                    },
                }
            }
        };
        Some(HelperCall {
            name,
            args,
            bound,
            source,
        })
    }

    /// Shape 2: the URI comes from a helper that uploads its parameter and returns the URI.
    pub(super) fn helper_plan<'p>(
        &self,
        HelperCall {
            name,
            args,
            bound,
            source,
        }: HelperCall<'a>,
        loc: &'p InputLocation<'a>,
        value: &'a Expr,
    ) -> Result<(RewritePlan<'p, 'a>, Vec<String>), SkipReason> {
        let unsupported = |why: &str| {
            Err(SkipReason::Unsupported(format!(
                "the URI comes from helper `{name}`, but {why}"
            )))
        };
        // A helper left without a caller is removed (or reported) by `dead`.
        let upload = match source {
            HelperSource::Refused(why) => return unsupported(&why),
            HelperSource::Ambiguous(candidates) => {
                return unsupported(&format!(
                    "that name may mean several functions of this crate ({}); bodyline cannot prove which one runs",
                    candidates.join(", ")
                ))
            }
            HelperSource::Local { sig, block } => summarize_helper(self.ctx, sig, block),
            HelperSource::Crate { upload } => upload,
        };
        let upload = match upload {
            Ok(u) => u,
            Err(why) => return unsupported(&why),
        };
        let Some(li) = bound else {
            return unsupported(
                "it is called inside input_location; bind its result with `let` first",
            );
        };
        let Some(arg) = args.get(upload.payload_param).copied() else {
            return unsupported("the call has too few arguments");
        };
        let links = self.request_links().0;
        let content_type = if links
            .iter()
            .any(|m| m.method == "content_type" || m.method == "set_content_type")
        {
            None
        } else {
            upload.content_type
        };
        let let_range = self.info.lets[li].stmt_range.clone();
        let Some((b, s)) = self.info.stmt_containing(&let_range) else {
            return unsupported("its call is not a statement");
        };
        let put_stmt = StmtLoc {
            block: b,
            index: s,
            range: let_range,
        };
        let mut notes = Vec::new();
        let plan = RewritePlan {
            loc,
            uri: value,
            put: None,
            put_links: Vec::new(),
            put_stmt,
            payload: Payload::Bytes(arg),
            content_type,
            content_type_range: None,
        };
        notes.push(format!("followed helper `{name}`"));
        Ok((plan, notes))
    }
}

/// The note naming the upload's settings that go away with it (tags, metadata, ...), if any.
fn dropped_settings_note(put_links: &[&ExprMethodCall]) -> Option<String> {
    let dropped: Vec<String> = put_links
        .iter()
        .map(|m| m.method.to_string())
        .filter(|n| !SETTINGS_THAT_GO_WITH_THE_UPLOAD.contains(&n.as_str()))
        .collect();
    (!dropped.is_empty()).then(|| {
        format!(
            "upload-only settings go away with the upload: {}",
            dropped.join(", ")
        )
    })
}
