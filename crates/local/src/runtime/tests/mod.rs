//! Tests of the runtime against a real moto with IAM enforced, through bodyline's front door,
//! with the real SageMaker Runtime client: what issue 4 says must be shown.

mod api;
mod durability;
mod failures;
mod resilience;
mod util;
