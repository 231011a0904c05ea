//! A guest's reply, typed once: the engine's answer `T`, or the core's [`ErrorBody`]
//! (`{"error": {"code", "stage", "message"}}`). Every caller of the runtime decodes
//! through [`reply`]; none reads `["error"]["code"]` from a JSON value.
use serde::de::DeserializeOwned;
use vitrine_engine::ErrorBody;

#[derive(serde::Deserialize)]
struct Envelope {
    error: ErrorBody,
}

/// Decodes `bytes` (what `vitrine_decide`, `vitrine_plan`, `vitrine_info` or
/// `vitrine_last_error` returned) as `T`, or as the error envelope. A reply that is
/// neither becomes an `internal` error naming what was wrong.
pub fn reply<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ErrorBody> {
    match serde_json::from_slice::<T>(bytes) {
        Ok(t) => Ok(t),
        Err(as_t) => match serde_json::from_slice::<Envelope>(bytes) {
            Ok(e) => Err(e.error),
            Err(_) => {
                Err(ErrorBody { code: "internal".into(), stage: "runtime".into(), message: format!("unreadable guest reply: {as_t}") })
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitrine_engine::engine::Info;

    #[test]
    fn an_answer_an_error_and_garbage_each_decode_to_their_own_kind() {
        let info = Info {
            bundle: "b".into(),
            version: 3,
            hash: "h".into(),
            schema_hash: "s".into(),
            offers: 1,
            slots: vec![],
            channels: vec![],
            features: 2,
            models: 0,
            engine_version: "e".into(),
            snapshot_cache: Default::default(),
        };
        let ok = serde_json::to_vec(&info).unwrap();
        assert_eq!(reply::<Info>(&ok), Ok(info));
        let body = ErrorBody { code: "request_unknown_slot".into(), stage: "request".into(), message: "m".into() };
        assert_eq!(reply::<Info>(&body.to_json()), Err(body));
        let garbage = reply::<Info>(b"{\"nope\":1}").unwrap_err();
        assert_eq!((garbage.code.as_str(), garbage.stage.as_str()), ("internal", "runtime"));
        assert!(garbage.message.starts_with("unreadable guest reply"), "{}", garbage.message);
        assert_eq!(reply::<Info>(b"").unwrap_err().code, "internal");
    }
}
