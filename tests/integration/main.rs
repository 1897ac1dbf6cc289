//! Integration tests: the real binary, run as a user runs it, against real
//! files, real git repositories and a private tmux server per test.

// Tests start programs directly and unwrap freely: a panic is a failure.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

mod support;

mod agents;
mod container;
mod dispatch;
mod docs;
mod faults;
mod foundation;
mod headless;
mod hooks;
mod land;
mod page;
mod plugin;
mod scopecraft;
mod serve;
mod work;
mod worktree;
