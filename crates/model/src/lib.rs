//! bodyline's small real model server, speaking the SageMaker container contract.
//!
//! SageMaker starts an inference container as `<image> serve` and talks to it over HTTP on the
//! port it is given: `GET /ping` says the model is ready, `POST /invocations` scores a payload.
//! This crate is such a container without the container: the `bodyline-model` binary, started by
//! the local runtime as `bodyline-model serve` with `SAGEMAKER_BIND_TO_PORT=<port>`.
//!
//! # Brief overview
//! - [`score_payload`] turns a JSON payload into [`Scores`]: `{"records": [...]}`, a JSON array
//!   of objects or one object, each record scored deterministically (the same record always gets
//!   the same score, on any machine).
//! - [`ServeOptions`] is read from the environment ([`ServeOptions::from_env`]): the port, and whether the
//!   fault fields of a record (`fail`, `sleep_ms`, `exit`) are honoured so tests can make the
//!   model fail on purpose.
//! - [`router`] is the axum app; [`serve`] runs it on a listener until a shutdown future resolves.
//!
//! ```
//! let scores = bodyline_model::score_payload(br#"{"records":[{"amount":12.5},{"amount":3}]}"#)
//!     .unwrap();
//! assert_eq!(scores.scores.len(), 2);
//! let again = bodyline_model::score_payload(br#"{"amount":12.5}"#).unwrap();
//! assert_eq!(again.scores[0], scores.scores[0]);
//! ```
#![deny(missing_docs)]

mod options;
mod score;
mod server;

pub use crate::{
    options::{ServeOptions, ServeOptionsError},
    score::{score_payload, score_record, Fault, ScoreError, Scores},
    server::{router, serve},
};
