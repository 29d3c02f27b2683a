/*!
Test support: AWS requests held to AWS's own service models, so that what moto lets through
is caught before a first real run does.

The models are botocore's (`botocore/data/<service>/<version>/service-2.json`), the JSON the
AWS SDKs are generated from; bodyline's local stack pins botocore beside moto. A test records
the requests it sends (the tests' forwarder) and hands each to [`Contract::check`].

# Brief overview

* [`ServiceModel`] is one service's operations and shapes; [`Contract::from_botocore`] loads
  the seven bodyline calls ([`SERVICES`]: S3, IAM, SageMaker, SNS, STS, CloudWatch,
  Application Auto Scaling), keyed by SigV4 signing name.
* [`decode`] turns a request back into its operation and parameters per protocol: JSON
  (`X-Amz-Target`), query (`Action=` form) and REST-XML (S3: URI template, labels, headers,
  query string, XML payload), typed by the input shape.
* [`Contract::check`] holds the parameters to the input shape (required and unknown members,
  string lengths, patterns matched whole, enums, numeric ranges, list and map sizes) and to
  IAM's documented policy size limits ([`policy_size`]), and returns each [`Violation`] naming
  the operation, the member, the value and the rule.

```
use bodyline_contract::{Contract, ServiceModel};
let iam = ServiceModel::from_json("iam", serde_json::json!({
    "metadata": {"protocol": "query"},
    "operations": {"CreateRole": {"input": {"shape": "CreateRoleRequest"}}},
    "shapes": {
        "CreateRoleRequest": {"type": "structure", "required": ["RoleName"],
            "members": {"RoleName": {"shape": "roleNameType"}}},
        "roleNameType": {"type": "string", "min": 1, "max": 64, "pattern": "[\\w+=,.@-]+"}
    }
}));
let mut contract = Contract::new([("iam", iam)]);
let request = http::Request::post("http://127.0.0.1/")
    .header("authorization", "AWS4-HMAC-SHA256 Credential=K/20260101/us-east-1/iam/aws4_request")
    .body(bytes::Bytes::from(format!("Action=CreateRole&RoleName={}", "r".repeat(65))))
    .unwrap();
let checked = contract.check(&request).unwrap().unwrap();
assert_eq!(checked.violations[0].member, "RoleName");
assert!(checked.violations[0].rule.contains("1..=64"));
```
*/
#![deny(missing_docs)]

mod decode;
mod error;
mod iam_limits;
mod model;
mod rules;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;

pub use decode::{decode, signing_name, Decoded};
pub use error::ContractError;
pub use iam_limits::{
    policy_size, MANAGED_POLICY_MAX, ROLE_INLINE_TOTAL_MAX, TRUST_POLICY_MAX, USER_INLINE_TOTAL_MAX,
};
pub use model::{botocore_data_dir, ServiceModel, SERVICES};

/// One broken constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The service (botocore's name), e.g. `sagemaker`.
    pub service: String,
    /// The operation, e.g. `CreateEndpointConfig`.
    pub operation: String,
    /// The member's path in the input, e.g. `Tags[0].Key`.
    pub member: String,
    /// The value as sent (long ones cut, their length said).
    pub value: String,
    /// The rule it breaks.
    pub rule: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {} = {} — {}",
            self.service, self.operation, self.member, self.value, self.rule
        )
    }
}

/// A request the checker recognised, and what it found.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The service (botocore's name).
    pub service: String,
    /// The operation and its decoded parameters.
    pub decoded: Decoded,
    /// Every broken constraint; empty when the request keeps the contract.
    pub violations: Vec<Violation>,
}

/// The models of the services checked, keyed by SigV4 signing name, and what checking keeps
/// across requests (compiled patterns, IAM inline policy totals).
#[derive(Debug)]
pub struct Contract {
    models: HashMap<String, ServiceModel>,
    patterns: rules::Patterns,
    iam: iam_limits::IamLimits,
}

impl Contract {
    /// A checker for the given `(signing name, model)` pairs.
    pub fn new<'a>(models: impl IntoIterator<Item = (&'a str, ServiceModel)>) -> Contract {
        Contract {
            models: models
                .into_iter()
                .map(|(name, model)| (name.to_string(), model))
                .collect(),
            patterns: rules::Patterns::default(),
            iam: iam_limits::IamLimits::default(),
        }
    }

    /// A checker for every service in [`SERVICES`], from botocore's `data` directory.
    pub fn from_botocore(data: &Path) -> Result<Contract, ContractError> {
        let mut models = Vec::new();
        for (signing, dir) in SERVICES {
            models.push((*signing, ServiceModel::load(data, dir)?));
        }
        Ok(Contract::new(models))
    }

    /// Checks one request. `Ok(None)` for a request to no modelled service: unsigned (the
    /// local stack's own endpoints), another service, or SageMaker Runtime's data plane
    /// (signed `sagemaker` like the control plane, but REST-JSON under `/endpoints/`).
    pub fn check(
        &mut self,
        request: &http::Request<Bytes>,
    ) -> Result<Option<Checked>, ContractError> {
        let Some(signing) = decode::signing_name(request.headers()) else {
            return Ok(None);
        };
        if signing == "sagemaker" && request.uri().path().starts_with("/endpoints/") {
            return Ok(None);
        }
        let Some(model) = self.models.get(signing) else {
            return Ok(None);
        };
        let decoded = decode::decode(model, request)?;
        let mut walk = rules::Walk {
            model,
            operation: &decoded.operation,
            patterns: &mut self.patterns,
            found: Vec::new(),
        };
        if let Some(input) = model.input_shape(&decoded.operation) {
            walk.check(input, &decoded.params, "");
        }
        let mut violations = walk.found;
        if model.service == "iam" {
            violations.extend(self.iam.check(&decoded.operation, &decoded.params));
        }
        Ok(Some(Checked {
            service: model.service.clone(),
            decoded,
            violations,
        }))
    }

    /// `service.Shape` of every pattern met that the checker could not compile (look-around),
    /// so a report can say what went unchecked.
    pub fn unchecked_patterns(&self) -> Vec<String> {
        self.patterns.unchecked.iter().cloned().collect()
    }
}
