/*!
The bodyline local stack: AWS on one loopback URL, with IAM enforced, for machines without an
AWS account.

The control plane is [moto](https://github.com/getmoto/moto) in server mode
([`MOTO_REQUIREMENT`], installed on first use into a virtualenv by [`install`]). In front of
it sits bodyline's *front door*: SageMaker Runtime invocations go to bodyline's own async
runtime (moto's is a stub that ignores `Body`); every other request is forwarded to moto byte
for byte. Clients need only the standard variables in `.bodyline/local.env`.

# Brief overview

* [`LocalStack::start`] is the in-process supervisor, used by tests and by [`serve`]:
  1. [`install`] makes sure moto is in the virtualenv (a lock file serialises installs);
  2. `moto_server` starts on a free 127.0.0.1 port with `INITIAL_NO_AUTH_ACTION_COUNT=3`;
  3. the bootstrap spends exactly those three unauthenticated calls on `CreateUser`,
     `PutUserPolicy` (`*` on `*`) and `CreateAccessKey`; from then on moto checks every
     signature and policy, as AWS does;
  4. the runtime starts with the administrator's keys and moto as its control plane;
  5. the front door ([`router`], [`serve_front_door`]) listens on its own free port;
  6. [`LocalEnv`](bodyline_stack::LocalEnv) is written to `<root>/.bodyline/local.env`.

  [`LocalStack::stop`] (or drop) takes it all down; moto is also bound to the life of the
  spawning process, so a crash leaves no moto behind. moto is started again if it dies, and
  replays its change log (`moto_persist.py`), so its state survives its own death and the
  supervisor's: a start that finds a crashed stack's record restores that stack.
* [`up`], [`down`] and [`status`] manage one detached `bodyline local serve` process per
  project through `<root>/.bodyline/local.pid`; its output goes to `local.log`. `serve` runs the
  front door and runtime in their own process, kept running beside moto; [`losses`] lists what
  a crash could not bring back.
* [`LocalError`] is every failure; as an axum response it is an AWS-shaped XML error.

```no_run
# async fn demo() -> Result<(), bodyline_local::LocalError> {
use bodyline_local::{LocalOptions, LocalStack};

let stack = LocalStack::start(LocalOptions::new("/path/to/project", "us-east-1")).await?;
let s3 = aws_sdk_s3::Client::new(&stack.sdk_config());
s3.create_bucket().bucket("example").send().await.ok();
stack.stop().await;
# Ok(())
# }
```
*/

#![deny(missing_docs)]

mod bootstrap;
mod callers;
mod daemon;
mod error;
mod front_door;
mod iam_policy;
mod install;
mod moto;
mod process;
mod record;
mod runtime;
mod s3_strict;
mod supervisor;
mod sys;

pub use daemon::{
    answers, down, log_file, pid_file, serve, shutdown_signal, status, up, LocalStatus, UpReport,
};
pub use error::LocalError;
pub use front_door::{router, serve_front_door, FrontDoorState};
pub use install::{default_venv, install, BOTOCORE_REQUIREMENT, MOTO_REQUIREMENT};
pub use record::losses;
pub use supervisor::{
    LocalOptions, LocalStack, ADMIN_ARN_VAR, FRONT_DOOR_PROCESS_VAR, MOTO_URL_VAR,
};
