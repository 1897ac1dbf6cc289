//! `menu`: the plugin's menu (see `crate::menu` for its pages). The
//! commands of a page run in one tmux call, or are printed (`--print`).

use std::io::Write;

use anyhow::Result;

use super::{Globals, Run};
use crate::cli::{MenuArgs, MenuPage};
use crate::menu::{self, Action, Page, Request};
use crate::output;
use crate::tmux::{Commands, Tmux};

impl Run for MenuArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let tmux = Tmux::from_env();
        let request = Request {
            client: self.client.clone(),
            pane: self.pane.clone(),
            project_dir: globals.project_dir().map(Into::into),
            plugin_dir: self.plugin_dir.clone(),
            dry_run: self.print,
            page: page(self.page.as_ref()),
        };
        let result = menu::commands(&request, &tmux).and_then(|commands| {
            if self.print {
                print(&commands)
            } else {
                run(&tmux, &commands)
            }
        });
        match result {
            Err(err) if !self.print && self.client.is_some() => {
                // Run from a key: nobody reads stderr, so say it on the client.
                let text = format!("{err:#}");
                run(&tmux, &[menu::message(self.client.as_deref(), &text)]).map_err(|_| err)
            }
            other => other,
        }
    }
}

fn page(page: Option<&MenuPage>) -> Page {
    let sessions = |action, page: usize| Page::Sessions { action, page };
    match page {
        None => Page::Main,
        Some(MenuPage::Tasks(p)) => Page::Tasks { page: p.page },
        Some(MenuPage::Modes { task, page }) => Page::Modes {
            task: task.clone(),
            page: *page,
        },
        Some(MenuPage::Attach(p)) => sessions(Action::Attach, p.page),
        Some(MenuPage::Stop(p)) => sessions(Action::Stop, p.page),
        Some(MenuPage::Logs(p)) => sessions(Action::Logs, p.page),
        Some(MenuPage::Resume(p)) => sessions(Action::Resume, p.page),
        Some(MenuPage::Takeover(p)) => sessions(Action::Takeover, p.page),
        Some(MenuPage::Diff(p)) => Page::Diff { page: p.page },
        Some(MenuPage::Pick) => Page::Pick,
        Some(MenuPage::Run { args }) => Page::Run { args: args.clone() },
    }
}

fn print(commands: &[Vec<String>]) -> Result<()> {
    let mut out = output::stdout();
    for command in commands {
        writeln!(out, "{}", menu::printable(command))?;
    }
    out.flush()?;
    Ok(())
}

fn run(tmux: &Tmux, commands: &[Vec<String>]) -> Result<()> {
    if commands.is_empty() {
        return Ok(());
    }
    let mut batch = Commands::new();
    for command in commands {
        batch.add(command);
    }
    tmux.run(&batch)?;
    Ok(())
}
