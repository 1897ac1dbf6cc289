//! What one call of an agent's hook says, and what it changes in the books.
//!
//! Claude Code runs a hook's command with the event as JSON on stdin
//! (`hook_event_name`, `session_id`, and per event `notification_type`,
//! `error`, `reason`, `is_interrupt`; `agent_id` only inside a subagent).
//! From it come the lead agent's state (working, waiting, blocked, ended,
//! with the reason) and its conversation id, which follows `/clear`,
//! `/compact` and `/resume`. Most calls change nothing and write nothing.

use std::path::Path;

use anyhow::Result;
use serde::Deserialize;

use crate::books::{self, Activity, AgentState, Record, Status};

/// The fields of a hook's input that matter here; the rest (tool inputs
/// and responses, transcripts) is skipped unread.
#[derive(Debug, Default, Deserialize)]
pub struct Input {
    #[serde(default)]
    pub hook_event_name: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub notification_type: Option<String>,
    /// StopFailure: the error that ended the turn (`rate_limit`, …).
    #[serde(default)]
    pub error: Option<serde_json::Value>,
    /// SessionEnd: why (`clear`, `logout`, `prompt_input_exit`, `other`).
    #[serde(default)]
    pub reason: Option<serde_json::Value>,
    /// PostToolUseFailure: the user interrupted the tool.
    #[serde(default)]
    pub is_interrupt: Option<bool>,
    /// Present when the event fired inside a subagent.
    #[serde(default)]
    pub agent_id: Option<serde_json::Value>,
}

/// What a hook call says about the lead agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Said {
    /// The event's name (for the record).
    pub event: String,
    /// A new state and its reason, when the event means one.
    pub state: Option<(Activity, Option<String>)>,
    /// The conversation the event belongs to.
    pub session_id: Option<String>,
}

/// Reads a hook's stdin; `None` when it is not a hook input.
pub fn parse(bytes: &[u8]) -> Option<Input> {
    let input: Input = serde_json::from_slice(bytes).ok()?;
    input.hook_event_name.is_some().then_some(input)
}

/// The state an event means. A subagent's events (and `SubagentStop`)
/// say nothing about the lead: a subagent finishing is not the lead
/// waiting for its user.
pub fn interpret(input: &Input) -> Said {
    let event = input.hook_event_name.clone().unwrap_or_default();
    if input.agent_id.is_some() || event.starts_with("Subagent") {
        return Said {
            event,
            ..Said::default()
        };
    }
    let text = |value: &Option<serde_json::Value>| {
        value.as_ref().and_then(|v| v.as_str()).map(str::to_string)
    };
    let with = |activity, reason: &str| Some((activity, Some(reason.to_string())));
    let state = match event.as_str() {
        "UserPromptSubmit" | "PreToolUse" | "PostToolUse" => Some((Activity::Working, None)),
        "PostToolUseFailure" if input.is_interrupt == Some(true) => {
            with(Activity::Blocked, "interrupted")
        }
        "PostToolUseFailure" => Some((Activity::Working, None)),
        "PermissionRequest" => with(Activity::Waiting, "permission_prompt"),
        "Notification" => match input.notification_type.as_deref() {
            Some(kind @ ("permission_prompt" | "elicitation_dialog" | "idle_prompt")) => {
                with(Activity::Waiting, kind)
            }
            // The user answered the question: the agent goes on.
            Some("elicitation_complete" | "elicitation_response") => {
                Some((Activity::Working, None))
            }
            _ => None,
        },
        "Stop" => with(Activity::Waiting, "turn_ended"),
        "StopFailure" => Some((
            Activity::Blocked,
            Some(text(&input.error).unwrap_or_else(|| "unknown".to_string())),
        )),
        // `/clear` ends one conversation and starts the next in the same
        // agent: only the id changes (with the SessionStart that follows).
        "SessionEnd" => match text(&input.reason) {
            Some(reason) if reason == "clear" => None,
            reason => Some((Activity::Ended, reason)),
        },
        _ => None,
    };
    Said {
        event,
        state,
        session_id: input.session_id.clone().filter(|id| !id.is_empty()),
    }
}

/// What an older binary's hook command passed as its argument.
pub fn legacy(state: &str) -> Said {
    let activity = if state == "waiting" {
        Activity::Waiting
    } else {
        Activity::Working
    };
    Said {
        event: state.to_string(),
        state: Some((activity, None)),
        session_id: None,
    }
}

/// What [`apply`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changed {
    /// The state shown to people (status, agent state, stuck).
    pub state: bool,
    /// The conversation id.
    pub conversation: bool,
}

impl Changed {
    pub fn any(self) -> bool {
        self.state || self.conversation
    }
}

/// Applies what a hook said to a live record. A new conversation id
/// becomes the record's (the one `--continue` resumes) and the run keeps
/// the ids it had before.
pub fn apply(record: &mut Record, said: &Said, now: &str) -> Changed {
    let mut changed = Changed::default();
    if !record.status.is_live() {
        return changed;
    }
    if let Some(id) = &said.session_id
        && record.agent_session_id.as_deref() != Some(id)
    {
        record.set_conversation(id);
        changed.conversation = true;
    }
    let Some((activity, reason)) = &said.state else {
        return changed;
    };
    let status = match activity {
        Activity::Working => Status::Running,
        Activity::Waiting | Activity::Blocked => Status::Waiting,
        Activity::Ended => record.status,
    };
    let same = record.status == status
        && record
            .agent_state
            .as_ref()
            .is_some_and(|s| s.state == *activity && s.reason == *reason);
    if !same {
        record.status = status;
        record.agent_state = Some(AgentState {
            state: *activity,
            reason: reason.clone(),
            event: said.event.clone(),
            since: now.to_string(),
        });
        changed.state = true;
    }
    // Word from the agent: it is not stuck.
    if record.stuck_since.take().is_some() {
        changed.state = true;
    }
    changed
}

/// Applies a hook call to the record at `path`: read without the lock
/// first (most calls change nothing), then under it. `None` when nothing
/// changed.
pub fn receive(path: &Path, said: &Said) -> Result<Option<(Record, Changed)>> {
    let (books, name) = books::locate(path)?;
    let now = books::now();
    let Some(mut record) = books.read_raw(&name)? else {
        return Ok(None);
    };
    if !apply(&mut record, said, &now).any() {
        return Ok(None);
    }
    let _lock = books.lock(&name)?;
    let Some(mut record) = books.read_raw(&name)? else {
        return Ok(None);
    };
    let changed = apply(&mut record, said, &now);
    if !changed.any() {
        return Ok(None);
    }
    books.write(&mut record)?;
    Ok(Some((record, changed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(json: &str) -> Said {
        interpret(&parse(json.as_bytes()).expect("a hook input"))
    }

    fn state(json: &str) -> Option<(Activity, Option<String>)> {
        said(json).state
    }

    #[test]
    fn every_event_means_its_state() {
        let w = |reason: &str| Some((Activity::Waiting, Some(reason.to_string())));
        let b = |reason: &str| Some((Activity::Blocked, Some(reason.to_string())));
        for event in ["UserPromptSubmit", "PreToolUse", "PostToolUse"] {
            assert_eq!(
                state(&format!(
                    r#"{{"hook_event_name":"{event}","tool_response":{{"x":[1,2]}}}}"#
                )),
                Some((Activity::Working, None))
            );
        }
        assert_eq!(
            state(
                r#"{"hook_event_name":"PostToolUseFailure","error":"exit 1","is_interrupt":false}"#
            ),
            Some((Activity::Working, None))
        );
        assert_eq!(
            state(r#"{"hook_event_name":"PostToolUseFailure","is_interrupt":true}"#),
            b("interrupted")
        );
        assert_eq!(
            state(r#"{"hook_event_name":"Notification","notification_type":"permission_prompt"}"#),
            w("permission_prompt")
        );
        assert_eq!(
            state(r#"{"hook_event_name":"Notification","notification_type":"idle_prompt"}"#),
            w("idle_prompt")
        );
        assert_eq!(
            state(r#"{"hook_event_name":"Notification","notification_type":"elicitation_dialog"}"#),
            w("elicitation_dialog")
        );
        assert_eq!(
            state(r#"{"hook_event_name":"Notification","notification_type":"auth_success"}"#),
            None
        );
        assert_eq!(
            state(
                r#"{"hook_event_name":"Notification","notification_type":"elicitation_response"}"#
            ),
            Some((Activity::Working, None))
        );
        assert_eq!(
            state(r#"{"hook_event_name":"PermissionRequest","tool_name":"Bash"}"#),
            w("permission_prompt")
        );
        assert_eq!(state(r#"{"hook_event_name":"Stop"}"#), w("turn_ended"));
        assert_eq!(
            state(r#"{"hook_event_name":"StopFailure","error":"rate_limit"}"#),
            b("rate_limit")
        );
        assert_eq!(state(r#"{"hook_event_name":"StopFailure"}"#), b("unknown"));
        assert_eq!(
            state(r#"{"hook_event_name":"SessionEnd","reason":"prompt_input_exit"}"#),
            Some((Activity::Ended, Some("prompt_input_exit".into())))
        );
        assert_eq!(
            state(r#"{"hook_event_name":"SessionEnd","reason":"clear"}"#),
            None
        );
        assert_eq!(
            state(r#"{"hook_event_name":"SessionStart","source":"clear"}"#),
            None
        );
    }

    #[test]
    fn a_subagent_says_nothing_about_the_lead() {
        let sub = said(
            r#"{"hook_event_name":"SubagentStop","session_id":"s1","agent_id":"a1","agent_type":"Explore"}"#,
        );
        assert_eq!(sub.state, None);
        assert_eq!(sub.session_id, None);
        let inside = said(r#"{"hook_event_name":"Stop","session_id":"s1","agent_id":"a1"}"#);
        assert_eq!(inside.state, None);
        // The lead's own agent_type (claude --agent) is not a subagent.
        let lead = said(r#"{"hook_event_name":"Stop","session_id":"s1","agent_type":"reviewer"}"#);
        assert!(lead.state.is_some());
        assert!(parse(b"not json").is_none());
        assert!(parse(br#"{"session_id":"s"}"#).is_none());
    }

    fn live() -> Record {
        let mut record: Record = serde_json::from_value(serde_json::json!({
            "sessionName": "t-11A.auto", "taskId": "t-11A", "status": "running",
            "startTime": "2026-01-01T00:00:00.000Z", "execType": "tmux",
            "agentSessionId": "old", "realSessionId": "old",
            "sessionHistory": [{"sessionId": "old", "startTime": "2026-01-01T00:00:00.000Z"}],
        }))
        .unwrap();
        record.last_updated = books::now();
        record
    }

    #[test]
    fn the_conversation_id_follows_the_agent_and_the_run_keeps_the_old_ones() {
        let mut record = live();
        let start =
            said(r#"{"hook_event_name":"SessionStart","source":"clear","session_id":"new"}"#);
        let changed = apply(&mut record, &start, "t1");
        assert!(changed.conversation && !changed.state);
        assert_eq!(record.agent_session_id.as_deref(), Some("new"));
        assert_eq!(record.real_session_id.as_deref(), Some("new"));
        let run = &record.session_history[0];
        assert_eq!(run.session_id.as_deref(), Some("new"));
        assert_eq!(run.previous_session_ids, ["old"]);
        // Back to the first one (/resume): kept once.
        apply(
            &mut record,
            &said(r#"{"hook_event_name":"SessionStart","session_id":"old"}"#),
            "t2",
        );
        apply(
            &mut record,
            &said(r#"{"hook_event_name":"SessionStart","session_id":"new"}"#),
            "t3",
        );
        assert_eq!(
            record.session_history[0].previous_session_ids,
            ["old", "new"]
        );
        assert_eq!(record.agent_session_id.as_deref(), Some("new"));
    }

    #[test]
    fn only_a_change_is_a_change() {
        let mut record = live();
        let stop = said(r#"{"hook_event_name":"Stop","session_id":"old"}"#);
        assert!(apply(&mut record, &stop, "t1").state);
        assert_eq!(record.status, Status::Waiting);
        assert_eq!(record.agent_state.as_ref().unwrap().since, "t1");
        assert!(!apply(&mut record, &stop, "t2").any(), "the same again");
        assert_eq!(record.agent_state.as_ref().unwrap().since, "t1");
        let blocked = said(r#"{"hook_event_name":"StopFailure","error":"billing_error"}"#);
        assert!(apply(&mut record, &blocked, "t3").state);
        assert_eq!(record.state_word(), "blocked");
        assert_eq!(record.state_reason(), "billing_error");
        let ended = said(r#"{"hook_event_name":"SessionEnd","reason":"other"}"#);
        assert!(apply(&mut record, &ended, "t4").state);
        assert_eq!(
            record.status,
            Status::Waiting,
            "the supervisor records the end"
        );
        record.status = Status::Completed;
        let late = said(r#"{"hook_event_name":"UserPromptSubmit","session_id":"x"}"#);
        assert!(!apply(&mut record, &late, "t5").any(), "an ended run stays");
    }
}
