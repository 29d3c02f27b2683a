//! Cannot compile by design: a syntax error in a file that mentions input_location.

pub async fn broken(rt: &aws_sdk_sagemakerruntime::Client) {
    rt.invoke_endpoint_async().input_location("s3://b/k"
}
