//! THREAD (RFC 5256 §3): ORDEREDSUBJECT, and REFERENCES — the threading of Jamie
//! Zawinski that the RFC describes: parent links from References (or In-Reply-To),
//! a message's own References replacing a link another one made, dummy parents for
//! messages referred to but not there, pruned; the threads ordered by date, then merged
//! by base subject, siblings by date. Dates are sent dates (as SORT DATE), ties by
//! sequence number.
//!
//! Every walk over the trees is a loop, never a recursion, so a chain of any depth
//! costs no stack. The work is bounded: the last [`MAX_REFERENCES`] references of a
//! message count, and a link is refused as a loop when its parent has more than
//! [`MAX_ANCESTORS`] ancestors (such a chain goes on as a thread of its own).

use super::super::shared_search::Forest;
use std::borrow::Cow;
use std::collections::HashMap;

pub use mailhive_store::sortkey::MAX_REFERENCES;
/// Ancestors walked to rule out a loop before a link is made.
pub const MAX_ANCESTORS: usize = 256;

/// What threading needs of one message.
#[derive(Debug)]
pub struct Message<'a> {
    pub seq: u32,
    pub uid: u32,
    /// The sent date, as seconds.
    pub date: i64,
    /// The base subject, as a number that stands for it alone; none when it is empty.
    pub subject: Option<u32>,
    /// The subject was a reply or a forward.
    pub reply: bool,
    /// The message ids, each as a number that stands for it alone.
    pub id: Option<u32>,
    /// References, or the first In-Reply-To id when there are none.
    pub references: Cow<'a, [u32]>,
}

/// ORDEREDSUBJECT: one thread per base subject, its first message (by date) the parent
/// of all the others; the threads in the order of their first messages.
pub fn ordered_subject(mut messages: Vec<Message<'_>>) -> Forest {
    messages.sort_by_key(|m| (m.subject, m.date, m.seq));
    let mut threads: Vec<&[Message]> = messages.chunk_by(|a, b| a.subject == b.subject).collect();
    threads.sort_by_key(|t| (t[0].date, t[0].seq));
    let mut forest = Forest::default();
    for thread in threads {
        let root = forest.add(Some((thread[0].seq, thread[0].uid)));
        for child in &thread[1..] {
            let node = forest.add(Some((child.seq, child.uid)));
            forest.nodes[root].1.push(node);
        }
        forest.roots.push(root);
    }
    forest
}

/// The (date, sequence number) a container sorts by.
type DateOf<'a> = dyn Fn(&Tree, usize) -> Option<(i64, u32)> + 'a;

/// A container of the algorithm: a message (index into the messages) or a dummy.
#[derive(Debug, Default)]
struct Container {
    message: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

struct Tree {
    containers: Vec<Container>,
}

impl Tree {
    fn new_container(&mut self) -> usize {
        self.containers.push(Container::default());
        self.containers.len() - 1
    }

    /// Whether `ancestor` is `node` or above it, or the chain is too long to tell.
    fn is_ancestor(&self, ancestor: usize, node: usize) -> bool {
        let mut at = Some(node);
        for _ in 0..=MAX_ANCESTORS {
            match at {
                Some(n) if n == ancestor => return true,
                Some(n) => at = self.containers[n].parent,
                None => return false,
            }
        }
        true
    }

    fn unlink(&mut self, child: usize) {
        if let Some(parent) = self.containers[child].parent.take() {
            self.containers[parent].children.retain(|&c| c != child);
        }
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.containers[child].parent = Some(parent);
        self.containers[parent].children.push(child);
    }
}

/// REFERENCES (RFC 5256 §3).
pub fn references(messages: &[Message<'_>]) -> Forest {
    let mut tree = Tree {
        containers: Vec::new(),
    };
    // The container of each message id, by its number.
    let ids = messages
        .iter()
        .flat_map(|m| m.id.iter().chain(m.references.iter()))
        .max()
        .map_or(0, |&n| n as usize + 1);
    let mut by_id: Vec<Option<usize>> = vec![None; ids];
    // (1) Containers and parent links.
    for (index, message) in messages.iter().enumerate() {
        let own = match message.id {
            Some(id) => match by_id[id as usize] {
                Some(c) if tree.containers[c].message.is_none() => c,
                // A second message with the id is a message of its own.
                Some(_) => tree.new_container(),
                None => {
                    let c = tree.new_container();
                    by_id[id as usize] = Some(c);
                    c
                }
            },
            None => tree.new_container(),
        };
        tree.containers[own].message = Some(index);
        let skip = message.references.len().saturating_sub(MAX_REFERENCES);
        let mut previous: Option<usize> = None;
        for &id in &message.references[skip..] {
            let container = *by_id[id as usize].get_or_insert_with(|| tree.new_container());
            if let Some(parent) = previous {
                let free = tree.containers[container].parent.is_none();
                if free && !tree.is_ancestor(container, parent) {
                    tree.link(parent, container);
                }
            }
            previous = Some(container);
        }
        // The message's own References decide its parent.
        tree.unlink(own);
        if let Some(parent) = previous.filter(|&p| !tree.is_ancestor(own, p)) {
            tree.link(parent, own);
        }
    }
    let date_of = |tree: &Tree, c: usize| -> Option<(i64, u32)> {
        let first = tree.containers[c].message.or_else(|| {
            tree.containers[c]
                .children
                .first()
                .and_then(|&f| tree.containers[f].message)
        });
        first.map(|m| (messages[m].date, messages[m].seq))
    };
    // (2) The root set; (4) dummies pruned, children first.
    let mut roots: Vec<usize> = (0..tree.containers.len())
        .filter(|&c| tree.containers[c].parent.is_none())
        .collect();
    for node in post_order(&tree, &roots) {
        let children = &tree.containers[node].children;
        if children
            .iter()
            .all(|&c| tree.containers[c].message.is_some())
        {
            continue;
        }
        let mut kept = Vec::with_capacity(children.len());
        for &child in children {
            let container = &tree.containers[child];
            match container.message {
                Some(_) => kept.push(child),
                None => kept.extend_from_slice(&container.children),
            }
        }
        for &child in &kept {
            tree.containers[child].parent = Some(node);
        }
        tree.containers[node].children = kept;
    }
    roots = roots
        .into_iter()
        .flat_map(|root| {
            let container = &tree.containers[root];
            match (container.message, container.children.len()) {
                (Some(_), _) => vec![root],
                (None, 0) => vec![],
                (None, 1) => container.children.clone(),
                (None, _) => vec![root],
            }
        })
        .collect();
    for &root in &roots {
        tree.containers[root].parent = None;
    }
    // Siblings by date everywhere, so a dummy's date is its first child's; (3) then
    // the roots.
    sort_children(&mut tree, &roots, &date_of);
    roots.sort_by_key(|&r| date_of(&tree, r));
    // (5) Threads merged by base subject.
    let subject_of = |tree: &Tree, c: usize| -> Option<(u32, bool)> {
        let container = &tree.containers[c];
        let message = container.message.or_else(|| {
            container
                .children
                .first()
                .and_then(|&f| tree.containers[f].message)
        })?;
        let m = &messages[message];
        Some((m.subject?, m.reply))
    };
    let mut table: HashMap<u32, usize> = HashMap::new();
    for &root in &roots {
        let Some((subject, reply)) = subject_of(&tree, root) else {
            continue;
        };
        let take = match table.get(&subject) {
            None => true,
            Some(&other) => {
                let (dummy, other_dummy) = (
                    tree.containers[root].message.is_none(),
                    tree.containers[other].message.is_none(),
                );
                let other_reply = subject_of(&tree, other).is_some_and(|(_, r)| r);
                (dummy && !other_dummy) || (!other_dummy && other_reply && !reply)
            }
        };
        if take {
            table.insert(subject, root);
        }
    }
    let mut merged = Vec::new();
    for root in roots {
        if tree.containers[root].parent.is_some() {
            // Merged into a thread before it came up.
            continue;
        }
        let Some((subject, reply)) = subject_of(&tree, root) else {
            merged.push(root);
            continue;
        };
        let Some(&other) = table.get(&subject).filter(|&&o| o != root) else {
            merged.push(root);
            continue;
        };
        let dummy = tree.containers[root].message.is_none();
        let other_dummy = tree.containers[other].message.is_none();
        let other_reply = subject_of(&tree, other).is_some_and(|(_, r)| r);
        if dummy && other_dummy {
            let children = std::mem::take(&mut tree.containers[root].children);
            for child in children {
                tree.link(other, child);
            }
        } else if other_dummy || (reply && !other_reply) {
            tree.link(other, root);
        } else {
            let parent = tree.new_container();
            let at = merged.iter().position(|&m| m == other);
            tree.link(parent, other);
            tree.link(parent, root);
            table.insert(subject, parent);
            match at {
                Some(i) => merged[i] = parent,
                None => merged.push(parent),
            }
        }
    }
    // (6) Siblings by date again, the merged threads included.
    sort_children(&mut tree, &merged, &date_of);
    into_forest(&tree, messages, &merged)
}

/// The containers under each of `roots`, root after root, children before their
/// parents.
fn post_order(tree: &Tree, roots: &[usize]) -> Vec<usize> {
    let mut order = Vec::with_capacity(tree.containers.len());
    let mut stack = Vec::new();
    for &root in roots {
        let start = order.len();
        stack.push(root);
        while let Some(node) = stack.pop() {
            order.push(node);
            stack.extend_from_slice(&tree.containers[node].children);
        }
        order[start..].reverse();
    }
    order
}

/// Sorts every sibling list under `roots` by date (children first, so a dummy's date
/// is that of its earliest child).
fn sort_children(tree: &mut Tree, roots: &[usize], date_of: &DateOf) {
    for node in post_order(tree, roots) {
        if tree.containers[node].children.len() > 1 {
            let mut children = std::mem::take(&mut tree.containers[node].children);
            children.sort_by_key(|&c| date_of(tree, c));
            tree.containers[node].children = children;
        }
    }
}

fn into_forest(tree: &Tree, messages: &[Message<'_>], roots: &[usize]) -> Forest {
    let mut forest = Forest::default();
    // Each container's node in the forest.
    let mut index = vec![0; tree.containers.len()];
    let containers = post_order(tree, roots);
    for &c in &containers {
        let message = tree.containers[c]
            .message
            .map(|m| (messages[m].seq, messages[m].uid));
        index[c] = forest.add(message);
    }
    for &c in &containers {
        forest.nodes[index[c]].1 = tree.containers[c]
            .children
            .iter()
            .map(|&child| index[child])
            .collect();
    }
    forest.roots = roots.iter().map(|&root| index[root]).collect();
    forest
}

/// `* THREAD (1 (2 4)(3))((5)(6))`: each thread a list, a message followed by its only
/// child in the same list or by its children each in a list of its own, a dummy parent
/// by its children only (RFC 5256 §4).
pub fn render(forest: &Forest, uid: bool) -> Vec<u8> {
    use std::fmt::Write;
    enum Step {
        Text(&'static str),
        Node(usize),
    }
    let mut line = String::from("* THREAD");
    if !forest.roots.is_empty() {
        line.push(' ');
    }
    let mut steps: Vec<Step> = Vec::new();
    for &root in forest.roots.iter().rev() {
        steps.extend([Step::Text(")"), Step::Node(root), Step::Text("(")]);
    }
    while let Some(step) = steps.pop() {
        let node = match step {
            Step::Text(text) => {
                line.push_str(text);
                continue;
            }
            Step::Node(node) => node,
        };
        let (message, children) = &forest.nodes[node];
        if let Some((seq, message_uid)) = message {
            let _ = write!(line, "{}", if uid { *message_uid } else { *seq });
        }
        match children.as_slice() {
            [] => {}
            [only] if message.is_some() => {
                steps.push(Step::Node(*only));
                steps.push(Step::Text(" "));
            }
            children => {
                for &child in children.iter().rev() {
                    steps.extend([Step::Text(")"), Step::Node(child), Step::Text("(")]);
                }
                if message.is_some() {
                    steps.push(Step::Text(" "));
                }
            }
        }
    }
    line.push_str("\r\n");
    line.into_bytes()
}
