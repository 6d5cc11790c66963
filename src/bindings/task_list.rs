//! The snapshot's array of tasks, kept between snapshots. When only some tasks changed, just their entries are
//! replaced; when tasks came or went it is rebuilt, reusing the objects of unchanged tasks. Each snapshot gets a
//! copy (one native `slice`; freezing it would cost 30 times more), so what a caller does to its copy changes
//! nothing. A snapshot costs what changed, and unchanged tasks keep their identity (React skips them).

use std::collections::{HashMap, HashSet};

use js_sys::{Array, Object, JSON};
use wasm_bindgen::prelude::*;

use super::string_cache::{self, StringCache};
use crate::conduit::id_hash::IdMap;
use crate::conduit::registry::{Registry, TaskFields, TrackedTask};

/// The current array (never handed out) and where each task sits in it.
#[derive(Default)]
pub struct TaskList {
    array: Option<Array>,
    index: IdMap<String, u32>,
}

impl TaskList {
    /// A copy of the array of every task, oldest first, brought up to date with the registry.
    pub fn update(&mut self, registry: &mut Registry, words: &StringCache) -> Array {
        let changes = registry.take_changes();
        let array = match &self.array {
            Some(array) if !changes.membership => {
                for id in &changes.tasks {
                    if let (Some(&i), Some(task)) = (self.index.get(id), registry.get(id)) {
                        array.set(i, task_object(task, words).into());
                    }
                }
                array.clone()
            }
            old => {
                let mut changed = HashSet::with_hasher(registry.hashing());
                changed.extend(&changes.tasks);
                let array = Array::new();
                let mut index = HashMap::with_hasher(registry.hashing());
                for (i, task) in registry.ordered().into_iter().enumerate() {
                    let kept = match (old, self.index.get(&task.id)) {
                        (Some(old), Some(&at)) if !changed.contains(&task.id) => Some(old.get(at)),
                        _ => None,
                    };
                    array.push(&kept.unwrap_or_else(|| task_object(task, words).into()));
                    index.insert(task.id.clone(), i as u32);
                }
                self.index = index;
                array
            }
        };
        let copy = array.slice(0, array.length());
        self.array = Some(array);
        copy
    }
}

#[wasm_bindgen(module = "/src/bindings/values.js")]
extern "C" {
    #[wasm_bindgen(js_name = taskObject)]
    #[allow(clippy::too_many_arguments)]
    fn task_object_of(
        id: &JsValue,
        task_type: &JsValue,
        status: &JsValue,
        progress: f64,
        message: &JsValue,
        status_text: &JsValue,
        estimated_seconds_remaining: Option<f64>,
        result: &JsValue,
        error: &JsValue,
        is_retryable: Option<bool>,
        reason: &JsValue,
        subscribed: bool,
        created_at: f64,
        updated_at: f64,
    ) -> Object;
}

/// One task's frozen snapshot object, built in one call (its `result`, when completed, from JSON).
fn task_object(task: &TrackedTask, words: &StringCache) -> Object {
    let f = TaskFields::of(task);
    let text = |s: Option<&str>| s.map_or(JsValue::UNDEFINED, string_cache::js_string);
    let word = |s: Option<&str>| s.map_or(JsValue::UNDEFINED, |s| words.get(s));
    let result = f.result.as_deref().and_then(|json| JSON::parse(json).ok()).unwrap_or(JsValue::UNDEFINED);
    task_object_of(
        &string_cache::js_string(f.id),
        &word(f.task_type),
        &word(Some(f.status)),
        f.progress,
        &text(f.message),
        &word(f.status_text),
        f.estimated_seconds_remaining,
        &result,
        &text(f.error),
        f.is_retryable,
        &text(f.reason),
        f.subscribed,
        f.created_at,
        f.updated_at,
    )
}
