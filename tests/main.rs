//! Integration tests, one binary: the command line as staff and editors use it, and the knowledge as shipped.

mod botapi;
mod helpers;

mod ask;
mod chat;
mod check;
mod dialogue;
mod guard;
mod matching;
mod pg;
mod replicas;
mod staff;
mod telegram;
