//! What setup's and teardown's sides of a resource kind share: the kinds a stack owns in
//! deletion order ([`resource`]), teardown's error and how an SDK error becomes it
//! ([`error`], [`failure`]), and what deleting one resource takes and gives ([`deleting`]).
//! A leaf: `resources/*` and `teardown` both build on it, and it uses neither.

pub(crate) mod deleting;
pub(crate) mod error;
pub(crate) mod failure;
pub(crate) mod ownership;
pub(crate) mod planned;
pub(crate) mod resource;
