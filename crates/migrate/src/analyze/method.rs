//! Method helpers: the type of a method call's receiver (a parameter, a `let` with a type or a
//! struct literal, a field of `self` with a declared type, `Self`) and the inherent method it
//! calls, in this file or anywhere in the crate's module tree. Types are matched by their last
//! path segment; a trait method (`impl Trait for X`, a generic, `dyn`/`impl Trait`) is refused
//! with that reason, because the method that runs is not known from the source alone.

use std::ops::Range;

use syn::spanned::Spanned;
use syn::{Expr, Stmt};

use super::collect::{path_ident, FnInfo};
use super::crate_scope::{FnEntry, Resolution};
use super::file::FileCtx;
use super::types::{impl_type_name, type_ref, TypeRef};

/// What a method call resolves to.
pub(crate) enum MethodTarget<'a> {
    /// An inherent method of this file.
    Local {
        sig: &'a syn::Signature,
        block: &'a syn::Block,
    },
    /// An inherent method in another file of the crate.
    Crate(FnEntry),
    /// Several inherent methods of the crate may be meant (described).
    Ambiguous(Vec<String>),
    /// The call cannot be followed: why (completing "but ...").
    Refused(String),
}

/// The enclosing function (innermost) of byte offset `at`, with its `impl` block if any.
fn enclosing<'a>(
    ctx: &FileCtx<'a, '_>,
    at: usize,
) -> Option<(&'a syn::Signature, Option<&'a syn::ItemImpl>)> {
    ctx.helpers
        .iter()
        .filter(|h| ctx.text.range(h.block.span()).contains(&at))
        .min_by_key(|h| {
            let r: Range<usize> = ctx.text.range(h.block.span());
            r.end - r.start
        })
        .map(|h| (h.sig, h.owner))
}

/// Generic parameter names of a function and its `impl` block.
fn generic_names(sig: &syn::Signature, owner: Option<&syn::ItemImpl>) -> Vec<String> {
    let mut out: Vec<String> = sig
        .generics
        .type_params()
        .map(|p| p.ident.to_string())
        .collect();
    if let Some(i) = owner {
        out.extend(i.generics.type_params().map(|p| p.ident.to_string()));
    }
    out
}

/// The type of the receiver `recv` of a call at byte offset `at`.
fn receiver_type(
    ctx: &FileCtx<'_, '_>,
    info: &FnInfo<'_>,
    recv: &Expr,
    at: usize,
) -> Option<TypeRef> {
    let (sig, owner) = enclosing(ctx, at)?;
    let self_ty = owner.and_then(impl_type_name);
    let generics = generic_names(sig, owner);
    let recv = super::resolve::strip(recv);
    if let Expr::Field(f) = recv {
        // `self.field`: the field's declared type.
        if path_ident(&f.base).as_deref() != Some("self") {
            return None;
        }
        let syn::Member::Named(field) = &f.member else {
            return None;
        };
        let owner_ty = self_ty?;
        return field_type(ctx, &owner_ty, &field.to_string());
    }
    let name = path_ident(recv)?;
    if name == "self" {
        return self_ty.map(TypeRef::Named);
    }
    if let Some(li) = info.find_let(&name, at) {
        return let_type(info, li, self_ty.as_deref(), &generics);
    }
    sig.inputs.iter().find_map(|input| match input {
        syn::FnArg::Typed(t) => match &*t.pat {
            syn::Pat::Ident(i) if i.ident == name => type_ref(&t.ty, self_ty.as_deref(), &generics),
            _ => None,
        },
        syn::FnArg::Receiver(_) => None,
    })
}

/// `let x: T = ..;` or `let x = T { .. };`.
fn let_type(
    info: &FnInfo<'_>,
    li: usize,
    self_ty: Option<&str>,
    generics: &[String],
) -> Option<TypeRef> {
    let l = &info.lets[li];
    let local = info.blocks.iter().find_map(|b| {
        b.stmts.iter().find_map(|(s, r)| match s {
            Stmt::Local(local) if *r == l.stmt_range => Some(local),
            _ => None,
        })
    })?;
    if let syn::Pat::Type(t) = &local.pat {
        return type_ref(&t.ty, self_ty, generics);
    }
    match super::resolve::strip(l.init?) {
        Expr::Struct(s) if s.qself.is_none() => {
            let name = s.path.segments.last()?.ident.to_string();
            if name == "Self" {
                self_ty.map(|s| TypeRef::Named(s.to_owned()))
            } else {
                Some(TypeRef::Named(name))
            }
        }
        _ => None,
    }
}

/// The declared type of `field` of the struct `owner`: this file first, then the crate.
fn field_type(ctx: &FileCtx<'_, '_>, owner: &str, field: &str) -> Option<TypeRef> {
    let local = ctx.structs.iter().find(|s| s.ident == owner);
    if let Some(s) = local {
        let generics: Vec<String> = s
            .generics
            .type_params()
            .map(|p| p.ident.to_string())
            .collect();
        return s.fields.iter().find_map(|f| {
            (f.ident.as_ref()? == field).then(|| type_ref(&f.ty, Some(owner), &generics))?
        });
    }
    ctx.scope?.scope.field_type(owner, field)
}

/// Resolve `recv.method(..)` at byte offset `at`. None: not a helper bodyline could follow
/// (unknown receiver type, or a method of no type of this crate).
pub(crate) fn resolve_method<'a>(
    ctx: &FileCtx<'a, '_>,
    info: &FnInfo<'_>,
    call: &syn::ExprMethodCall,
    at: usize,
) -> Option<MethodTarget<'a>> {
    let method = call.method.to_string();
    let ty = match receiver_type(ctx, info, &call.receiver, at)? {
        TypeRef::Abstract(why) => {
            return Some(MethodTarget::Refused(format!(
                "`{method}` is a trait method ({why}); bodyline does not follow trait methods"
            )))
        }
        TypeRef::Named(ty) => ty,
    };
    let mut trait_impl = None;
    for h in ctx.helpers.iter().filter(|h| h.name == method) {
        let Some(owner) = h.owner else { continue };
        if impl_type_name(owner).as_deref() != Some(ty.as_str()) {
            continue;
        }
        match &owner.trait_ {
            None => {
                return Some(MethodTarget::Local {
                    sig: h.sig,
                    block: h.block,
                })
            }
            Some((_, path, _)) => trait_impl = path.segments.last().map(|s| s.ident.to_string()),
        }
    }
    if let Some(tr) = trait_impl {
        return Some(trait_refusal(&method, &tr, &ty));
    }
    let Some(scope) = ctx.scope else {
        // Maybe an inherent method in another file of the crate: the scan looks there.
        ctx.wanted.borrow_mut().push(method);
        return None;
    };
    match scope.scope.method(&ty, &method) {
        Ok(Resolution::NotInCrate) => None,
        Ok(Resolution::Found(entry)) => Some(MethodTarget::Crate(entry.clone())),
        Ok(Resolution::Ambiguous(candidates)) => Some(MethodTarget::Ambiguous(candidates)),
        Err(tr) => Some(trait_refusal(&method, &tr, &ty)),
    }
}

fn trait_refusal<'a>(method: &str, tr: &str, ty: &str) -> MethodTarget<'a> {
    MethodTarget::Refused(format!(
        "`{method}` is a trait method (`impl {tr} for {ty}`); bodyline does not follow trait methods"
    ))
}
