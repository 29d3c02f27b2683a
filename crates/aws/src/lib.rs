/*!
bodyline's AWS helper layer: what every crate that talks to AWS needs, written once.

* [`Clients`] — one client per service, built from one `SdkConfig`, every operation counted as
  a read or a mutation by one [`CallCounter`] ([`CallCounts`]). Setup shows with it that a
  second run made no mutating call; teardown, verify and the tests use the same type.
* [`AwsFailure`] — what an SDK error said (code, message, HTTP status, whether the service
  answered at all), and the one reading of it every crate shares: [`ErrorClass`] (not found,
  transient, already exists, refused, other). SageMaker says "not found" and "already exists"
  in a `ValidationException` sentence; moto's IAM denials may carry no code; that knowledge
  lives here and nowhere else.
* [`error_chain`] — an error and its sources on one line, each said once.
* [`tags`] — `(key, value)` pairs to and from each service's tag type.
* [`create_user_with_key`] — a tagged IAM user with an access key (verify's throw-away
  invoker, the demo app's user); [`assume_role`] and [`with_credentials`] — acting as the
  identity a check probes.

This crate knows nothing of stacks or names (that is `bodyline-stack`) and makes no call on
its own; `migrate` does not depend on it (it depends on no AWS crate at all).
*/
#![deny(missing_docs)]

mod chain;
mod clients;
mod failure;
mod identity;
pub mod tags;
mod user;

pub use chain::error_chain;
pub use clients::{CallCounter, CallCounts, Clients};
pub use failure::{AwsFailure, ErrorClass};
pub use identity::{
    assume_role, caller, resolve_credentials, static_credentials, with_credentials, AssumeError,
    Caller,
};
pub use user::{create_user_with_key, UserError, UserKey};
