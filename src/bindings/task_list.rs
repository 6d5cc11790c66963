//! The snapshot's array of tasks, kept between snapshots. When only some tasks changed, just their entries are
//! replaced; when tasks came or went it is rebuilt, reusing the objects of unchanged tasks. Each snapshot gets a
//! copy (one native `slice`; freezing it would cost 30 times more), so what a caller does to its copy changes
//! nothing. A snapshot costs what changed, and unchanged tasks keep their identity (React skips them).

use std::collections::{HashMap, HashSet};

use js_sys::{Array, Object, JSON};
use wasm_bindgen::JsCast;

use super::js;
use crate::conduit::id_hash::IdMap;
use crate::conduit::registry::{self, Registry, TrackedTask};

/// The current array (never handed out) and where each task sits in it.
#[derive(Default)]
pub struct TaskList {
    array: Option<Array>,
    index: IdMap<String, u32>,
}

impl TaskList {
    /// A copy of the array of every task, oldest first, brought up to date with the registry.
    pub fn update(&mut self, registry: &mut Registry) -> Array {
        let changes = registry.take_changes();
        let array = match &self.array {
            Some(array) if !changes.membership => {
                for id in &changes.tasks {
                    if let (Some(&i), Some(task)) = (self.index.get(id), registry.get(id)) {
                        array.set(i, task_object(task).into());
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
                    array.push(&kept.unwrap_or_else(|| task_object(task).into()));
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

/// One task's frozen snapshot object.
fn task_object(task: &TrackedTask) -> Object {
    let object = JSON::parse(&registry::task_json(task)).map(JsCast::unchecked_into).unwrap_or_else(|_| Object::new());
    if let Some(result) = js::get(&object, "result") {
        Object::freeze(result.unchecked_ref::<Object>());
    }
    Object::freeze(&object)
}
