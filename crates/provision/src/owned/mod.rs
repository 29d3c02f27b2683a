//! What setup's and teardown's sides of a resource kind share, so `resources/*` and the flows
//! (`observe`, `plan`, `apply`, `teardown`) build on it and it uses none of them: the plan's
//! words for one change ([`planned`]), whose a resource is by its tags ([`ownership`]), how
//! apply waits and reports ([`applying`]), the kinds a stack owns in deletion order
//! ([`resource`]; the plan's and teardown's kinds are types here, their values are declared by
//! the resource modules), teardown's error and how an SDK error becomes it ([`error`], [`failure`]),
//! what deleting one resource takes and gives ([`deleting`]), what a resource module's tagged
//! listing is, takes and gives ([`listing`]), and what a resource module registers for
//! teardown and discovery ([`registration`]).

pub(crate) mod applying;
pub(crate) mod deleting;
pub(crate) mod error;
pub(crate) mod failure;
pub(crate) mod listing;
pub(crate) mod ownership;
pub(crate) mod planned;
pub(crate) mod registration;
pub(crate) mod resource;
