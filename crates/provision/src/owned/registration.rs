//! What a resource module states about each kind of resource it owns, for teardown and
//! discovery: a [`Registration`] (the kind, the plan's kinds that make it, the tagged listing
//! that finds it — a [`Listing`] the module declares — and the function that deletes it).
//! Each `resources/*` module declares its own as `OWNS`; `resources/mod.rs` lists the modules
//! once (`MODULES`) and `teardown/registry.rs` reads that list.
//! A leaf under `owned/`, so the modules declare registrations without reaching into
//! `teardown/`.

use crate::owned::deleting::DeleteFn;
use crate::owned::listing::Listing;
use crate::owned::planned::Kind;
use crate::owned::resource::ResourceKind;

/// One kind of owned resource. Teardown reads `delete`, discovery `listed_by`; the tests read
/// the rest, to hold setup's kinds, teardown's kinds and discovery's listings to one another.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Registration {
    /// What teardown calls it; its [`ResourceKind`] position is its deletion order.
    pub kind: ResourceKind,
    /// The plan's kinds whose changes make or configure it (empty: setup never makes it,
    /// e.g. verify's temporary user).
    pub planned_as: &'static [Kind],
    /// Where discovery finds it: a listing declared by a module (discovery runs each distinct
    /// one once, in position order).
    pub listed_by: &'static Listing,
    /// How teardown deletes it.
    pub delete: DeleteFn,
}

/// A registration, for the modules' `OWNS` tables.
pub(crate) const fn registered(
    kind: ResourceKind,
    planned_as: &'static [Kind],
    listed_by: &'static Listing,
    delete: DeleteFn,
) -> Registration {
    Registration {
        kind,
        planned_as,
        listed_by,
        delete,
    }
}

/// What one resource module owns, declared next to its code (its `OWNS`) and listed once in
/// `resources/mod.rs`: the plan's kinds it has changes for and the kinds teardown deletes.
#[derive(Clone, Copy)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Owns {
    /// The plan's kinds the module's `plan` produces (each must be some registration's
    /// `planned_as`: the registry's tests check).
    pub plans: &'static [Kind],
    /// Its registrations, one per kind it deletes.
    pub teardown: &'static [Registration],
}
