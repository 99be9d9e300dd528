//! Integration tests, one binary: the command line as staff and editors use it, and the knowledge as shipped.

mod botapi;
mod browser;
mod helpers;

mod ask;
mod chat;
mod check;
mod console;
mod console_in_bot;
mod dialogue;
mod guard;
mod matching;
mod pg;
mod replicas;
mod staff;
mod telegram;
