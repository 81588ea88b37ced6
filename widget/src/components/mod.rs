//! The widget's view components, one per file.

pub mod chat_panel;
pub mod handoff_view;
pub mod message_view;
pub mod rich_text_view;
