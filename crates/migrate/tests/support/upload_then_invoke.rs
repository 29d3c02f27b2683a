//! Upload, then invoke.
pub async fn go(s3: &S3, rt: &Rt, bucket: &str, payload: Vec<u8>) -> anyhow::Result<()> {
    let key = format!("in/{}.json", uuid::Uuid::new_v4());
    s3.put_object().bucket(bucket).key(&key).body(ByteStream::from(payload)).send().await?;
    rt.invoke_endpoint_async().endpoint_name("e").input_location(format!("s3://{bucket}/{key}")).send().await?;
    Ok(())
}
