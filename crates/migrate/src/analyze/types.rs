//! The type a method's receiver or a struct's field names, as far as following a method needs
//! it: the last path segment of a named type, with references and smart pointers peeled and
//! `Self` replaced; generics, `dyn Trait` and `impl Trait` are abstract (described).

use syn::Type;

/// A receiver's type, as far as following a method needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TypeRef {
    /// A named type (the last segment of its path; `&`, `Box`, `Arc`, `Rc` peeled).
    Named(String),
    /// Not a concrete type: a generic parameter, `dyn Trait` or `impl Trait` (described).
    Abstract(String),
}

/// The type named by `ty`, with references and smart pointers peeled and `Self` replaced.
pub(crate) fn type_ref(ty: &Type, self_ty: Option<&str>, generics: &[String]) -> Option<TypeRef> {
    match ty {
        Type::Reference(r) => type_ref(&r.elem, self_ty, generics),
        Type::Paren(p) => type_ref(&p.elem, self_ty, generics),
        Type::Group(g) => type_ref(&g.elem, self_ty, generics),
        Type::TraitObject(t) => Some(TypeRef::Abstract(format!(
            "its receiver is a trait object (`dyn {}`)",
            bounds_text(&t.bounds)
        ))),
        Type::ImplTrait(t) => Some(TypeRef::Abstract(format!(
            "its receiver is an `impl {}`",
            bounds_text(&t.bounds)
        ))),
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let name = last.ident.to_string();
            if matches!(name.as_str(), "Box" | "Arc" | "Rc") {
                if let syn::PathArguments::AngleBracketed(a) = &last.arguments {
                    if let Some(syn::GenericArgument::Type(inner)) = a.args.first() {
                        return type_ref(inner, self_ty, generics);
                    }
                }
                return None;
            }
            if p.path.segments.len() == 1 && generics.contains(&name) {
                return Some(TypeRef::Abstract(format!(
                    "its receiver's type is the generic parameter `{name}`"
                )));
            }
            if name == "Self" {
                return self_ty.map(|s| TypeRef::Named(s.to_owned()));
            }
            Some(TypeRef::Named(name))
        }
        _ => None,
    }
}

fn bounds_text(
    bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>,
) -> String {
    bounds
        .iter()
        .filter_map(|b| match b {
            syn::TypeParamBound::Trait(t) => t.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// The last path segment of an `impl` block's self type.
pub(crate) fn impl_type_name(i: &syn::ItemImpl) -> Option<String> {
    match type_ref(&i.self_ty, None, &[])? {
        TypeRef::Named(n) => Some(n),
        TypeRef::Abstract(_) => None,
    }
}
