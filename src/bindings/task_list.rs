//! The snapshot's array of tasks, kept between snapshots. When only some tasks changed, the previous array is
//! copied (natively, by `slice`) and just their entries are replaced; when tasks came or went it is rebuilt,
//! reusing the objects of unchanged tasks. So a snapshot costs what changed, and unchanged tasks keep their
//! identity (React skips them).

use std::collections::{HashMap, HashSet};

use js_sys::{Array, Object, JSON};
use wasm_bindgen::JsCast;

use super::js;
use crate::conduit::registry::{self, Registry, TrackedTask};

/// The last array handed out and where each task sits in it.
#[derive(Default)]
pub struct TaskList {
    array: Option<Array>,
    index: HashMap<String, u32>,
}

impl TaskList {
    /// The frozen array of every task, oldest first, brought up to date with the registry.
    pub fn update(&mut self, registry: &mut Registry) -> Array {
        let changes = registry.take_changes();
        let array = match &self.array {
            Some(old) if !changes.membership => {
                let array = if changes.tasks.is_empty() { old.clone() } else { old.slice(0, old.length()) };
                for id in &changes.tasks {
                    if let (Some(&i), Some(task)) = (self.index.get(id), registry.get(id)) {
                        array.set(i, task_object(task).into());
                    }
                }
                array
            }
            old => {
                let changed: HashSet<&String> = changes.tasks.iter().collect();
                let array = Array::new();
                let mut index = HashMap::new();
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
        Object::freeze(&array);
        self.array = Some(array.clone());
        array
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
