//! bodyline's end-to-end tests: the crates together and the `bodyline` binary, against the
//! local stack (moto with IAM enforcement, behind bodyline's front door and runtime).

mod ci_template;
mod cli;
mod contract;
mod demo;
mod estate;
mod input;
mod kill;
mod lookalike;
mod race;
mod sarif;
mod sdk_requirement;
mod setup;
mod sweep;
mod sweep_failure;
mod waits;
