//! A client configured by nothing but the variables of `.bodyline/local.env`, as a user's own
//! application would be after `set -a; . .bodyline/local.env`.

mod common;

use aws_config::BehaviorVersion;
use aws_sdk_s3::primitives::ByteStream;
use bodyline_local::LocalStack;

#[tokio::test]
async fn a_client_built_from_the_local_env_variables_works() {
    let root = common::temp_root();
    let stack = LocalStack::start(common::options(root.path()))
        .await
        .expect("the local stack starts");
    let path = bodyline_stack::LocalEnv::path(root.path());
    let text = std::fs::read_to_string(&path).expect("local.env is written");
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (key, value) = line.split_once('=').expect("KEY=value");
        // This binary has one test and the runtime's worker threads do not read the
        // environment, so setting it here races with nothing.
        std::env::set_var(key, value);
    }
    // Only the standard variables, through the default chain: no endpoint, key or region here.
    let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
    assert_eq!(config.endpoint_url(), Some(stack.endpoint_url()));
    let s3 = aws_sdk_s3::Client::new(&config);
    let bucket = common::unique("bodyline-env");
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("CreateBucket");
    s3.put_object()
        .bucket(&bucket)
        .key("k")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .expect("PutObject");
    let listed = s3
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .expect("ListObjectsV2");
    assert_eq!(listed.contents().len(), 1);
    let sts = aws_sdk_sts::Client::new(&config);
    let me = sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(me.arn(), Some(stack.admin_arn()));
    stack.stop().await;
}
