//! Our rendering of every real mode file against ChannelCoder's own, on the
//! same data (`tests/fixtures/channelcoder/`, made by
//! `scripts/channelcoder/render-all.mjs`).
//!
//! Where ChannelCoder renders a file correctly, the bytes must be the same.
//! Where it renders garbage or blanks text the author meant to keep, the
//! difference is listed in `DEVIATIONS` with ChannelCoder's text and ours;
//! each entry must still match, so the list cannot go stale.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::markdown::{self, FrontMatter};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn dataset(name: &str) -> Map<String, Value> {
    let mut data = json!({
        "taskId": "fix-bug-05A",
        "parentId": "",
        "taskInstruction": "Do the thing.",
        "mode": "implementation",
        "additionalInstructions": "",
        "area": "cli",
        "task_title": "Fix the bug",
    });
    if name == "with-parent" {
        data["parentId"] = json!("parent-06A");
        data["additionalInstructions"] = json!("Be careful.");
    }
    match data {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// One place where we render differently from ChannelCoder, on purpose.
struct Deviation {
    why: &'static str,
    /// `no-parent`, `with-parent` or `*`.
    dataset: &'static str,
    /// Files below the fixture root.
    files: &'static [&'static str],
    channelcoder: &'static str,
    ours: &'static str,
}

const DEVIATIONS: &[Deviation] = &[
    Deviation {
        why: "a template literal inside a ternary",
        dataset: "no-parent",
        files: &[
            "scopecraft-modes-head/implementation/autonomous.md",
            "scopecraft-modes-head/orchestration/autonomous.md",
            "scopecraft-v2/implement/autonomous.md",
            "scopecraft-v2/orchestration/autonomous.md",
        ],
        channelcoder: "${parentId` : ''}\n",
        ours: "\n",
    },
    Deviation {
        why: "a code sample's `{ Name }` is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/implementation/autonomous.md",
            "scopecraft-v2/implement/autonomous.md",
        ],
        channelcoder: "  - Attempted: import  from '../types'\n",
        ours: "  - Attempted: import { ResponseFormat } from '../types'\n",
    },
    Deviation {
        why: "a placeholder for the agent is blanked",
        dataset: "no-parent",
        files: &[
            "scopecraft-modes-head/implementation/parent.md",
            "scopecraft-v2/implement/parent.md",
        ],
        channelcoder: "Retrieve the subtask  within parent \n",
        ours: "Retrieve the subtask {subtaskId} within parent \n",
    },
    Deviation {
        why: "a placeholder for the agent is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/implementation/parent.md",
            "scopecraft-v2/implement/parent.md",
        ],
        channelcoder: "   ## Subtask Completed: \n",
        ours: "   ## Subtask Completed: {subtaskTitle}\n",
    },
    Deviation {
        why: "a placeholder for the agent is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/implementation/parent.md",
            "scopecraft-v2/implement/parent.md",
        ],
        channelcoder: "   1. Proceed to the next subtask ()?\n",
        ours: "   1. Proceed to the next subtask ({nextSubtaskId})?\n",
    },
    Deviation {
        why: "a placeholder for the agent is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/implementation/parent.md",
            "scopecraft-v2/implement/parent.md",
        ],
        channelcoder: "   bun run dev:cli task block \n",
        ours: "   bun run dev:cli task block {subtaskId}\n",
    },
    Deviation {
        why: "a code sample's `{ Name }` is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/implementation/area/core.md",
            "scopecraft-v2/implement/area/core.md",
        ],
        channelcoder: "import  from './id-generator';\n",
        ours: "import { generateTaskId } from './id-generator';\n",
    },
    Deviation {
        why: "a code sample's `{ Name }` is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/implementation/area/core.md",
            "scopecraft-v2/implement/area/core.md",
        ],
        channelcoder: "import  from './task-parser';\n",
        ours: "import { parseTaskDocument } from './task-parser';\n",
    },
    Deviation {
        why: "a code sample's `{ Name }` is blanked",
        dataset: "*",
        files: &["scopecraft-modes-head/implementation/area/core.md"],
        channelcoder: "import  from './directory-utils';\n",
        ours: "import { getWorkflowDirectory } from './directory-utils';\n",
    },
    Deviation {
        why: "a placeholder for the agent is blanked",
        dataset: "*",
        files: &["scopecraft-modes-head/implementation/area/core.md"],
        channelcoder: "- **Tasks**: `~/.scopecraft/projects//tasks/` (outside repo)\n- **Sessions**: `~/.scopecraft/projects//sessions/`\n- **Config**: `~/.scopecraft/projects//config/`\n",
        ours: "- **Tasks**: `~/.scopecraft/projects/{encoded}/tasks/` (outside repo)\n- **Sessions**: `~/.scopecraft/projects/{encoded}/sessions/`\n- **Config**: `~/.scopecraft/projects/{encoded}/config/`\n",
    },
    Deviation {
        why: "a code sample's `{ Name }` is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/implementation/area/ui.md",
            "scopecraft-v2/implement/area/ui.md",
        ],
        channelcoder: "import  from '@/lib/api/client';\n",
        ours: "import { apiClient } from '@/lib/api/client';\n",
    },
    Deviation {
        why: "a code sample's `{ Name }` is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/implementation/area/ui.md",
            "scopecraft-v2/implement/area/ui.md",
        ],
        channelcoder: "import  from './NewComponent';\n",
        ours: "import { NewComponent } from './NewComponent';\n",
    },
    Deviation {
        why: "a code sample with `?` and `:` loses its braces",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/implementation/area/ui.md",
            "scopecraft-v2/implement/area/ui.md",
        ],
        channelcoder: "interface TaskCardProps task: Task;\n",
        ours: "interface TaskCardProps {\n  task: Task;\n",
    },
    Deviation {
        why: "a placeholder for the agent is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/implementation/area/ui.md",
            "scopecraft-v2/implement/area/ui.md",
        ],
        channelcoder: "  onUpdate?: (task: Task) => void;\n",
        ours: "  onUpdate?: (task: Task) => void;\n}\n",
    },
    Deviation {
        why: "a code sample's `{ Name }` is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/implementation/area/ui.md",
            "scopecraft-v2/implement/area/ui.md",
        ],
        channelcoder: "rounded font-mono\">\n  \n</pre>",
        ours: "rounded font-mono\">\n  {output}\n</pre>",
    },
    Deviation {
        why: "an `{if:x}` block",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/planning/base.md",
            "scopecraft-v2/planning/base.md",
        ],
        channelcoder: "{if:context}\nAdditional context: \n{/if}\n",
        ours: "",
    },
    Deviation {
        why: "a placeholder for the agent is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/planning/base.md",
            "scopecraft-v2/planning/base.md",
        ],
        channelcoder: "- : Brainstorming task created\n",
        ours: "- {date}: Brainstorming task created\n",
    },
    Deviation {
        why: "a placeholder for the agent is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/orchestration/autonomous.md",
            "scopecraft-v2/orchestration/autonomous.md",
        ],
        channelcoder: "  - Questions:  (see Tasks section)\n",
        ours: "  - Questions: {count} (see Tasks section)\n",
    },
    Deviation {
        why: "a placeholder for the agent is blanked",
        dataset: "*",
        files: &["scopecraft-modes-head/design/area/core.md"],
        channelcoder: "- Tasks must be stored in centralized location (`~/.scopecraft/projects//`)\n",
        ours: "- Tasks must be stored in centralized location (`~/.scopecraft/projects/{encoded}/`)\n",
    },
    Deviation {
        why: "a placeholder for the agent is blanked",
        dataset: "*",
        files: &["scopecraft-modes-head/exploration/area/core.md"],
        channelcoder: "- Tasks are stored outside the repository in `~/.scopecraft/projects//tasks/`\n",
        ours: "- Tasks are stored outside the repository in `~/.scopecraft/projects/{encoded}/tasks/`\n",
    },
    Deviation {
        why: "an unknown `${name}` in a code sample is deleted",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/guidance/architecture-patterns.md",
            "scopecraft-v2/guidance/architecture-patterns.md",
        ],
        channelcoder: "const path = `../.worktrees/fix-bug-05A`;\n",
        ours: "const path = `../${projectName}.worktrees/fix-bug-05A`;\n",
    },
    Deviation {
        why: "a code sample's `{ Name }` is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/guidance/frontend-tools.md",
            "scopecraft-v2/guidance/frontend-tools.md",
        ],
        channelcoder: "import  from '@tanstack/react-query';\n",
        ours: "import { useQuery } from '@tanstack/react-query';\n",
    },
    Deviation {
        why: "a code sample's `{ Name }` is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/guidance/frontend-tools.md",
            "scopecraft-v2/guidance/frontend-tools.md",
        ],
        channelcoder: "import  from '@/components/ui/button';\nimport  from '@/hooks/useAuth';\n",
        ours: "import { Button } from '@/components/ui/button';\nimport { useAuth } from '@/hooks/useAuth';\n",
    },
    Deviation {
        why: "a code sample's `{ Name }` is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/guidance/frontend-tools.md",
            "scopecraft-v2/guidance/frontend-tools.md",
        ],
        channelcoder: "import  from './helpers';\n",
        ours: "import { localHelper } from './helpers';\n",
    },
    Deviation {
        why: "a code sample's `{ Name }` is blanked",
        dataset: "*",
        files: &[
            "scopecraft-modes-head/guidance/frontend-tools.md",
            "scopecraft-v2/guidance/frontend-tools.md",
        ],
        channelcoder: "import type  from './types';\n",
        ours: "import type { ComponentProps } from './types';\n",
    },
    Deviation {
        why: "a code sample with `?` and `:` loses its braces",
        dataset: "*",
        files: &["scopecraft-v2/implement/area/mcp.md"],
        channelcoder: "success: boolean,\n",
        ours: "{\n  success: boolean,\n",
    },
    Deviation {
        why: "a code sample with `?` and `:` loses its braces",
        dataset: "*",
        files: &["scopecraft-v2/implement/area/mcp.md"],
        channelcoder: "  metadata?: { timestamp, version\n",
        ours: "  metadata?: { timestamp, version }\n",
    },
    Deviation {
        why: "a template literal inside a ternary",
        dataset: "with-parent",
        files: &[
            "scopecraft-modes-head/implementation/autonomous.md",
            "scopecraft-modes-head/orchestration/autonomous.md",
            "scopecraft-v2/implement/autonomous.md",
            "scopecraft-v2/orchestration/autonomous.md",
        ],
        channelcoder: "`Parent` : ''}\n",
        ours: "Parent: parent-06A\n",
    },
    Deviation {
        why: "a placeholder for the agent is blanked",
        dataset: "with-parent",
        files: &[
            "scopecraft-modes-head/implementation/parent.md",
            "scopecraft-v2/implement/parent.md",
        ],
        channelcoder: "Retrieve the subtask  within parent parent-06A\n",
        ours: "Retrieve the subtask {subtaskId} within parent parent-06A\n",
    },
    Deviation {
        why: "`+` concatenation with escapes",
        dataset: "with-parent",
        files: &["scopecraft-modes-head/orchestration/base.md"],
        channelcoder: "<additional_instructions>\\n## Additional User Instructions\\n\\n\" + additionalInstructions + \"\\n\\nIncorporate these instructions into your orchestration approach.\\n</additional_instructions>\\n\\n<task_completion>\n",
        ours: "<additional_instructions>\n## Additional User Instructions\n\nBe careful.\n\nIncorporate these instructions into your orchestration approach.\n</additional_instructions>\n\n<task_completion>\n",
    },
    Deviation {
        why: "`+` concatenation with escapes",
        dataset: "with-parent",
        files: &["scopecraft-v2/orchestration/base.md"],
        channelcoder: "<additional_instructions>\\n## Additional User Instructions\\n\\n\" + additionalInstructions + \"\\n\\nIncorporate these instructions into your orchestration approach.\\n</additional_instructions>\\n\\n<best_practices>\n",
        ours: "<additional_instructions>\n## Additional User Instructions\n\nBe careful.\n\nIncorporate these instructions into your orchestration approach.\n</additional_instructions>\n\n<best_practices>\n",
    },
];

fn mode_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            mode_files(&path, found);
        } else {
            found.push(path);
        }
    }
}

fn declared_inputs(front: Option<FrontMatter<'_>>) -> Vec<String> {
    let Some(FrontMatter::Yaml(yaml)) = front else {
        return Vec::new();
    };
    let value: Value = serde_saphyr::from_str(yaml).unwrap_or(Value::Null);
    value
        .get("input")
        .and_then(Value::as_object)
        .map(|inputs| {
            inputs
                .keys()
                .map(|key| key.trim_end_matches('?').to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn renders_every_real_mode_file_as_channelcoder_does_where_it_is_right() {
    let root = fixtures();
    let mut compared = 0;
    let mut failures = Vec::new();
    let mut used_deviations = vec![false; DEVIATIONS.len()];
    for set in ["no-parent", "with-parent"] {
        let data = dataset(set);
        for tree in ["scopecraft-modes-head", "scopecraft-v2"] {
            let modes = root.join(tree).join(".tasks/.modes");
            let mut files = Vec::new();
            mode_files(&modes, &mut files);
            files.sort();
            for file in files {
                let relative = file.strip_prefix(&modes).unwrap();
                let key = format!("{tree}/{}", relative.display());
                let text = fs::read_to_string(&file).unwrap();
                let doc = markdown::split(&text);
                let body = if doc.front_matter.is_some() && text.starts_with("---") {
                    doc.body
                } else {
                    text.as_str()
                };
                let declared = declared_inputs(doc.front_matter);
                let ours = super::render(body, &data, declared.iter().map(String::as_str)).text;
                let mut expected =
                    fs::read_to_string(root.join("channelcoder").join(set).join(&key)).unwrap();
                for (i, deviation) in DEVIATIONS.iter().enumerate() {
                    if deviation.files.contains(&key.as_str())
                        && (deviation.dataset == "*" || deviation.dataset == set)
                    {
                        assert!(
                            expected.contains(deviation.channelcoder),
                            "deviation {i} ({}) no longer matches ChannelCoder's output of {key} ({set})",
                            deviation.why
                        );
                        expected = expected.replace(deviation.channelcoder, deviation.ours);
                        used_deviations[i] = true;
                    }
                }
                if ours != expected {
                    failures.push(format!(
                        "{set} {key}:\n{}",
                        first_difference(&expected, &ours)
                    ));
                }
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 82, "every fixture mode file, twice");
    for (i, used) in used_deviations.iter().enumerate() {
        assert!(
            used,
            "deviation {i} ({}) applies to no file",
            DEVIATIONS[i].why
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn first_difference(expected: &str, actual: &str) -> String {
    let expected_lines: Vec<&str> = expected.split('\n').collect();
    let actual_lines: Vec<&str> = actual.split('\n').collect();
    for i in 0..expected_lines.len().max(actual_lines.len()) {
        let e = expected_lines.get(i).copied();
        let a = actual_lines.get(i).copied();
        if e != a {
            return format!(
                "  line {}:\n    channelcoder: {e:?}\n    ours:         {a:?}",
                i + 1
            );
        }
    }
    "  (no line differs)".to_string()
}
