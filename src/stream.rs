//! Claude Code's `--output-format stream-json`: one JSON event per line
//! (`system/init`, `assistant`, `user`, and a final `result`).

use serde_json::Value;

/// The conversation id from a `system/init` event.
pub fn init_session_id(event: &Value) -> Option<&str> {
    if event.get("type")?.as_str()? == "system" && event.get("subtype")?.as_str()? == "init" {
        event.get("session_id")?.as_str()
    } else {
        None
    }
}

/// The final answer from a `result` event.
pub fn result_text(event: &Value) -> Option<&str> {
    if event.get("type")?.as_str()? == "result" {
        event.get("result")?.as_str()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_session_id_and_the_result() {
        let init = json!({"type": "system", "subtype": "init", "session_id": "abc"});
        assert_eq!(init_session_id(&init), Some("abc"));
        assert_eq!(result_text(&init), None);
        let result = json!({"type": "result", "subtype": "success", "result": "Done."});
        assert_eq!(result_text(&result), Some("Done."));
        assert_eq!(init_session_id(&result), None);
    }
}
