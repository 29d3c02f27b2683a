/*!
End-to-end checks of a bodyline stack.

`bodyline verify` proves, against the deployed endpoint, that the inline `Body` path works and
that the permissions are tight. It runs against AWS or the local stack: it only needs the
`SdkConfig` that [`bodyline_stack::sdk_config`] builds for the stack's target.

# Brief overview

* Verify runs checks that are data: a name and an async function each ([`check_names`]).
  [`verify`] runs them in order against a [`VerifyContext`] and returns a [`VerifyReport`]
  (table or JSON); it passes only when every check passes.
* [`verify_endpoint`] does the same for an async endpoint bodyline did not make, with no
  stack file: it describes the endpoint (read-only, an [`EndpointDescription`]), runs the same
  request-path checks against the paths its config names, and, with an invoker identity,
  probes that identity's grants; it returns an [`EndpointReport`].

Teardown and sweep, the inverse of setup, live in `bodyline_provision` (which owns create
and delete); verify only reads.

```
let names: Vec<&str> = bodyline_verify::check_names().into_iter().map(|(n, _)| n).collect();
assert_eq!(names[0], "endpoint");
```
*/
#![deny(missing_docs)]

mod aws;
mod checks;
mod error;

pub use checks::{
    check_names, verify, verify_endpoint, CheckResult, Comparison, EndpointDescription,
    EndpointOptions, EndpointReport, PathStats, VerifyContext, VerifyOptions, VerifyReport,
    DEFAULT_PAYLOAD,
};
pub use error::VerifyError;
