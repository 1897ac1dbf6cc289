//! A stop: ask a session's supervisor to end the agent, and wait until the
//! books say how it ended. An agent whose supervisor was killed is ended
//! here, and the session recorded as stopped.

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::books::{self, Books, Record, Status};
use crate::error::bail_input;
use crate::procs::{self, Process};

/// The supervisor's grace period, and a little more.
const WAIT: Duration = Duration::from_secs(15);

/// How long an orphaned agent gets between SIGTERM and SIGKILL.
const ORPHAN_GRACE: Duration = Duration::from_secs(10);

/// What a stop found or did.
#[derive(Debug)]
pub enum Stopped {
    /// The session had ended already; its record.
    NotRunning(Record),
    /// The session ended; its record as it ended.
    Ended(Record),
}

/// Stops the session of `record` and waits (up to the supervisor's grace
/// period) until it has ended.
pub fn stop(books: &Books, record: &Record) -> Result<Stopped> {
    if !record.is_ours() {
        bail_input!(
            "{} was not started by scopecraft-tmux (a Scopecraft record); there is nothing here to stop",
            record.session_name
        );
    }
    if !record.status.is_live() {
        return Ok(Stopped::NotRunning(record.clone()));
    }
    // Marked, and the supervisor read, under the lock: a supervisor
    // that has not begun yet sees the mark and starts nothing.
    let current = {
        let _lock = books.lock(&record.session_name)?;
        match books.read_raw(&record.session_name)? {
            Some(mut current) => {
                current.stop_requested = Some(true);
                books.write(&mut current)?;
                current
            }
            None => record.clone(),
        }
    };
    // Only a process proven to be the one recorded is signalled.
    let supervisor = current.supervisor_pid.and_then(|pid| {
        Process::find(
            pid,
            current.supervisor_start_ticks,
            current.boot_id.as_deref(),
        )
    });
    if let Some(supervisor) = supervisor {
        supervisor.signal(libc::SIGTERM);
    } else if let Some(agent) = agent_process(&current) {
        end_orphan(books, &current, &agent)?;
    }
    let deadline = Instant::now() + WAIT;
    let ended = loop {
        let current = books.read(&record.session_name)?;
        match current {
            Some(current) if current.status.is_live() && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            other => break other,
        }
    };
    match ended {
        Some(ended) if !ended.status.is_live() => Ok(Stopped::Ended(ended)),
        _ => anyhow::bail!(
            "{} ({}) did not stop within {}s; its supervisor is pid {}",
            record.task_id,
            record.mode_name(),
            WAIT.as_secs(),
            record.supervisor_pid.map_or("?".into(), |p| p.to_string())
        ),
    }
}

/// The record's agent, when it is still the process we started.
fn agent_process(record: &Record) -> Option<Process> {
    Process::find(
        record.pid?,
        record.agent_start_ticks,
        record.boot_id.as_deref(),
    )
}

/// Ends an agent that outlived its supervisor (its process group and every
/// process below it, also those that left the group: SIGTERM, SIGKILL after
/// a grace period) and records the session as stopped, with what could not
/// be ended.
fn end_orphan(books: &Books, record: &Record, agent: &Process) -> Result<()> {
    // Found now: once the agent is gone they belong to init.
    let boot = procs::boot_id();
    let below: Vec<Process> = procs::descendants(agent.pid())
        .into_iter()
        .filter_map(|pid| Process::find(pid, procs::start_ticks(pid), boot.as_deref()))
        .collect();
    let alive = || below.iter().filter(|p| p.alive()).count() + usize::from(agent.alive());
    // A Docker run's agent is the `docker` client: the container is
    // stopped through the engine.
    if let (Some(name), Some(docker)) = (&record.container, record.agent_command.first())
        && let Ok(mut stopping) = crate::docker::stop(std::path::Path::new(docker), name)
    {
        let _ = stopping.wait();
    }
    agent.signal_group(libc::SIGTERM);
    agent.signal_group(libc::SIGCONT);
    for process in &below {
        process.signal(libc::SIGTERM);
        process.signal(libc::SIGCONT);
    }
    let deadline = Instant::now() + ORPHAN_GRACE;
    while alive() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    agent.signal_group(libc::SIGKILL);
    for process in &below {
        process.signal(libc::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    while alive() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(25));
    }
    let unended: Vec<u32> = below
        .iter()
        .filter(|p| p.alive())
        .map(Process::pid)
        .collect();
    let _lock = books.lock(&record.session_name)?;
    if let Some(mut current) = books.read_raw(&record.session_name)?
        && current.status.is_live()
    {
        current.status = Status::Stopped;
        current.end_time = Some(books::now());
        current.unended = unended;
        current.close_current_run();
        books.write(&mut current)?;
    }
    Ok(())
}
