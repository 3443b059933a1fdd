//! Jaeger's v1 response envelope, checked on the serialized value. (The
//! traces inside it are written by `tracelab-formats`; their shape is
//! checked on the query API's answers, in the server's
//! `tests/query_api.rs`.)

use serde_json::json;
use tracelab_store::JaegerResponse;

#[test]
fn the_envelope_is_jaegers() {
    let ok = serde_json::to_value(JaegerResponse::ok(vec!["bands-api", "frontend"], 2)).unwrap();
    assert_eq!(
        ok,
        json!({"data": ["bands-api", "frontend"], "total": 2, "limit": 0, "offset": 0, "errors": null})
    );
    let error = serde_json::to_value(JaegerResponse::error(404, "trace not found")).unwrap();
    assert_eq!(
        error,
        json!({"data": null, "total": 0, "limit": 0, "offset": 0, "errors": [{"code": 404, "msg": "trace not found"}]})
    );
}
