// Drives a running Fluxgraph server with the unmodified official client. Usage: node e2e.mjs <apiUrl>
// Prints one line per check; exits 1 on the first failed check.
import { Client } from "@langchain/langgraph-sdk";

const apiUrl = process.argv[2];
const client = new Client({ apiUrl });

function check(condition, what, detail) {
  if (!condition) {
    console.error(`FAIL ${what}: ${JSON.stringify(detail)}`);
    process.exit(1);
  }
  console.log(`ok ${what}`);
}

const assistants = await client.assistants.search({ graphId: "human_in_the_loop" });
check(assistants.length === 1 && assistants[0].graph_id === "human_in_the_loop", "assistants.search", assistants);

const thread = await client.threads.create({ metadata: { user: "e2e" } });
check(typeof thread.thread_id === "string", "threads.create", thread);

const first = [];
for await (const chunk of client.runs.stream(thread.thread_id, "human_in_the_loop", {
  input: "foo", streamMode: ["updates", "custom", "values"] })) {
  first.push(chunk);
}
check(first[0].event === "metadata", "stream starts with metadata", first[0]);
check(first.some(c => c.event === "updates" && c.data.step_1 === "foo bar"), "updates chunk of step_1", first);
const paused = first.find(c => c.event === "updates" && c.data.__interrupt__);
check(paused && paused.data.__interrupt__[0].value === "Please provide feedback: foo bar", "interrupt streamed", first);

const replayed = [];
for await (const chunk of client.runs.joinStream(thread.thread_id, first[0].data.run_id)) {
  replayed.push(chunk);
}
check(replayed.some(c => c.event === "updates" && c.data.step_1 === "foo bar"), "runs.joinStream replays the run", replayed);

const state = await client.threads.getState(thread.thread_id);
check(state.next[0] === "graph", "getState next", state);
check(state.interrupts.length === 1 && state.tasks.length === 1 && state.tasks[0].name === "graph"
  && state.tasks[0].interrupts[0].value === "Please provide feedback: foo bar"
  && JSON.stringify(state.tasks[0].path) === JSON.stringify(["__pregel_pull", "graph"]),
  "thread state tasks[0].interrupts: the paused entrypoint carries the interrupt", state);

const resumed = [];
for await (const chunk of client.runs.stream(thread.thread_id, "human_in_the_loop", {
  command: { resume: "baz" }, streamMode: ["updates", "values"] })) {
  resumed.push(chunk);
}
check(resumed.some(c => c.event === "values" && c.data === "foo bar baz qux"), "resumed to the end", resumed);

const history = await client.threads.getHistory(thread.thread_id);
check(history.length >= 2 && history[0].values === "foo bar baz qux", "getHistory newest first", history);

const updated = await client.threads.updateState(thread.thread_id, { values: "edited" });
check(typeof updated.checkpoint.checkpoint_id === "string", "threads.updateState", updated);
check((await client.threads.getState(thread.thread_id)).values === "edited", "state after updateState", updated);

const tag = `e2e-${Date.now()}-${Math.random()}`;
const patched = await client.threads.update(thread.thread_id, { metadata: { tag } });
check(patched.metadata.tag === tag && patched.metadata.graph_id === "human_in_the_loop", "threads.update", patched);
check(await client.threads.count({ metadata: { tag } }) === 1, "threads.count", tag);
check(await client.assistants.count({ graphId: "human_in_the_loop" }) === 1, "assistants.count");
const copied = await client.threads.copy(thread.thread_id);
check(copied.thread_id !== thread.thread_id && copied.metadata.tag === tag, "threads.copy", copied);
check((await client.threads.getState(copied.thread_id)).values === "edited", "state of the copy", copied);
await client.threads.delete(copied.thread_id);

const other = await client.threads.create();
const waited = await client.runs.wait(other.thread_id, "simple_workflow", { input: { number: 7 } });
check(waited.message === "The number is odd.", "runs.wait", waited);

const background = await client.runs.create(other.thread_id, "simple_workflow", { input: { number: 8 } });
check(background.run_id && ["pending", "running", "success"].includes(background.status), "runs.create", background);
const joined = await client.runs.join(other.thread_id, background.run_id);
check(joined.message === "The number is even.", "runs.join", joined);
const listed = await client.runs.list(other.thread_id);
check(listed.length === 2 && listed.every(r => r.status === "success"), "runs.list", listed);
const fetched = await client.runs.get(other.thread_id, background.run_id);
check(fetched.status === "success", "runs.get", fetched);

const napping = await client.threads.create();
const long = await client.runs.create(napping.thread_id, "sleepy", { input: "zzz" });
let rejected = false;
try {
  await client.runs.create(napping.thread_id, "sleepy", { input: "again" });
} catch (error) {
  rejected = String(error).includes("409");
}
check(rejected, "a second run on a busy thread is rejected", long);
await client.runs.cancel(napping.thread_id, long.run_id, true);
const cancelled = await client.runs.get(napping.thread_id, long.run_id);
check(cancelled.status === "interrupted", "runs.cancel", cancelled);
const idle = await client.threads.get(napping.thread_id);
check(idle.status === "idle", "thread idle after cancel", idle);

const found = await client.threads.search({ metadata: { user: "e2e" } });
check(found.length === 1 && found[0].thread_id === thread.thread_id, "threads.search by metadata", found);

await client.threads.delete(other.thread_id);
let gone = false;
try {
  await client.threads.get(other.thread_id);
} catch (error) {
  gone = String(error).includes("404");
}
check(gone, "threads.delete", other);
// A StateGraph served through CompiledGraph.asEntrypoint()
const graphThread = await client.threads.create();
const drafted = [];
for await (const chunk of client.runs.stream(graphThread.thread_id, "review_graph", {
  input: { topic: "otters" }, streamMode: ["updates", "values"] })) {
  drafted.push(chunk);
}
check(drafted.some(c => c.event === "updates" && c.data.draft && c.data.draft.text === "draft about otters"),
  "graph: updates per node", drafted);
check(drafted.some(c => c.event === "updates" && c.data.__interrupt__), "graph: interrupt in a node", drafted);
const graphState = await client.threads.getState(graphThread.thread_id);
check(graphState.next.length === 1 && graphState.next[0] === "review", "graph: getState next is the node", graphState);
check(graphState.tasks[0].name === "review" && graphState.tasks[0].interrupts[0].value === "approve draft about otters?",
  "graph: the paused node's task carries the interrupt", graphState);
const reviewed = await client.runs.wait(graphThread.thread_id, "review_graph", { command: { resume: "yes" } });
check(reviewed.verdict === "yes" && reviewed.published === "draft about otters"
  && JSON.stringify(reviewed.log) === JSON.stringify(["draft", "review", "publish"]), "graph: resumed to the end", reviewed);
await client.threads.updateState(graphThread.thread_id, { values: { text: "edited" }, asNode: "review" });
const edited = await client.threads.getState(graphThread.thread_id);
check(edited.next[0] === "publish" && edited.values.text === "edited", "graph: updateState asNode sets next", edited);

// A graph whose node is a graph that pauses: its state under tasks[0].state with subgraphs
const deskThread = await client.threads.create();
await client.runs.wait(deskThread.thread_id, "desk", { input: { topic: "otters" } });
const deskFlat = await client.threads.getState(deskThread.thread_id);
check(deskFlat.tasks[0].name === "write" && deskFlat.tasks[0].state === null
  && deskFlat.tasks[0].checkpoint.checkpoint_ns.startsWith("write:")
  && deskFlat.tasks[0].interrupts[0].value === "approve draft about otters?", "subgraph: the node's task", deskFlat);
const deskDeep = await client.threads.getState(deskThread.thread_id, undefined, { subgraphs: true });
const nested = deskDeep.tasks[0].state;
check(nested && nested.next[0] === "review" && nested.values.text === "draft about otters"
  && nested.tasks[0].interrupts[0].value === "approve draft about otters?", "getState subgraphs: true", deskDeep);
const byCheckpoint = await client.threads.getState(deskThread.thread_id, deskFlat.tasks[0].checkpoint,
  { subgraphs: true });
check(byCheckpoint.next[0] === "review" && byCheckpoint.checkpoint.checkpoint_ns === nested.checkpoint.checkpoint_ns,
  "getState at a subgraph's checkpoint", byCheckpoint);
const deskDone = await client.runs.wait(deskThread.thread_id, "desk", { command: { resume: "yes" } });
check(deskDone.verdict === "yes" && (await client.threads.getState(deskThread.thread_id)).tasks.length === 0,
  "subgraph: resumed to the end", deskDone);

// multitask_strategy rollback: the running run is cancelled and its checkpoints dropped
const rollThread = await client.threads.create();
const slow = await client.runs.create(rollThread.thread_id, "sleepy", { input: "zzz" });
await new Promise(resolve => setTimeout(resolve, 100));
const replacing = await client.runs.create(rollThread.thread_id, "simple_workflow", {
  input: { number: 2 }, multitaskStrategy: "rollback" });
const replaced = await client.runs.join(rollThread.thread_id, replacing.run_id);
check(replaced.message === "The number is even.", "the rolling-back run ran", replaced);
let rolledBack = false;
try {
  await client.runs.get(rollThread.thread_id, slow.run_id);
} catch (error) {
  rolledBack = String(error).includes("404");
}
check(rolledBack, "multitask rollback deletes the replaced run", slow);

// multitask_strategy enqueue: the second run is pending behind the first, and runs once the first is cancelled
const queueThread = await client.threads.create();
const ahead = await client.runs.create(queueThread.thread_id, "sleepy", { input: "zzz" });
const behind = await client.runs.create(queueThread.thread_id, "simple_workflow", {
  input: { number: 4 }, multitaskStrategy: "enqueue" });
check(behind.status === "pending", "enqueue: the second run is pending", behind);
await client.runs.cancel(queueThread.thread_id, ahead.run_id, true);
const dequeued = await client.runs.join(queueThread.thread_id, behind.run_id);
check(dequeued.message === "The number is even.", "enqueue: the queued run runs once the first ends", dequeued);
let announced;
await client.runs.wait(queueThread.thread_id, "simple_workflow", {
  input: { number: 5 }, onRunCreated: (created) => { announced = created; } });
check(announced && announced.thread_id === queueThread.thread_id
  && (await client.runs.get(queueThread.thread_id, announced.run_id)).status === "success",
  "runs.wait onRunCreated (Content-Location)", announced);

// getState at a checkpoint id (GET /threads/{id}/state/{checkpoint_id}), threads.create with ifExists
const older = history[1].checkpoint.checkpoint_id;
const atOlder = await client.threads.getState(thread.thread_id, older);
check(atOlder.checkpoint.checkpoint_id === older && atOlder.values === history[1].values,
  "getState at a checkpoint id", atOlder);
const same = await client.threads.create({ threadId: thread.thread_id, ifExists: "do_nothing" });
check(same.thread_id === thread.thread_id && same.metadata.user === "e2e", "threads.create ifExists do_nothing", same);
// Every run publishes its events: joinStream of a background run (finished or not) replays them and ends
const joinThread = await client.threads.create();
const quick = await client.runs.create(joinThread.thread_id, "simple_workflow", {
  input: { number: 3 }, streamMode: ["updates", "values"] });
const rejoined = [];
for await (const chunk of client.runs.joinStream(joinThread.thread_id, quick.run_id)) rejoined.push(chunk);
check(rejoined[0].event === "metadata" && rejoined[0].data.run_id === quick.run_id
  && rejoined.some(c => c.event === "updates" && c.data.is_even === false)
  && rejoined.at(-1).event === "values" && rejoined.at(-1).data.message === "The number is odd.",
  "joinStream of a background run replays its events and ends", rejoined);
const again = [];
for await (const chunk of client.runs.joinStream(joinThread.thread_id, quick.run_id)) again.push(chunk);
check(JSON.stringify(again) === JSON.stringify(rejoined), "joinStream of the finished run replays the same", again);
const onlyValues = [];
for await (const chunk of client.runs.joinStream(joinThread.thread_id, quick.run_id, { streamMode: "values" })) {
  onlyValues.push(chunk);
}
check(onlyValues.map(c => c.event).join() === "metadata,values", "joinStream streamMode filters", onlyValues);
const afterFirst = [];
for await (const chunk of client.runs.joinStream(joinThread.thread_id, quick.run_id, { lastEventId: "0" })) {
  afterFirst.push(chunk);
}
check(afterFirst.length === rejoined.length - 1 && afterFirst[0].event === "updates",
  "joinStream lastEventId replays what came after", afterFirst);
const failThread = await client.threads.create();
const failedRun = await client.runs.create(failThread.thread_id, "failing", { input: "x" });
const failure = [];
for await (const chunk of client.runs.joinStream(failThread.thread_id, failedRun.run_id)) failure.push(chunk);
check(failure[0].event === "metadata" && failure.at(-1).event === "error"
  && failure.at(-1).data.message === "boom: x", "joinStream of a failed run ends with its error", failure);
check((await client.runs.get(failThread.thread_id, failedRun.run_id)).status === "error", "the failed run's status",
  failedRun);
const waitedEvents = [];
let waitedRun;
await client.runs.wait(joinThread.thread_id, "simple_workflow", {
  input: { number: 10 }, onRunCreated: (created) => { waitedRun = created; } });
for await (const chunk of client.runs.joinStream(joinThread.thread_id, waitedRun.run_id)) waitedEvents.push(chunk);
check(waitedEvents.at(-1).event === "values" && waitedEvents.at(-1).data.message === "The number is even.",
  "joinStream of a waited run", waitedEvents);

// Messages as LangChain shapes them: role-style input, each message once in messages-tuple mode, LangChain's JSON
const chatThread = await client.threads.create();
const chat = [];
for await (const chunk of client.runs.stream(chatThread.thread_id, "chat_tools", {
  input: { messages: [{ role: "user", content: "Weather in Paris?" }] }, streamMode: ["messages-tuple", "values"] })) {
  chat.push(chunk);
}
const streamedMessages = chat.filter(c => c.event === "messages").map(c => c.data[0]);
check(streamedMessages.map(m => m.type).join() === "ai,tool,ai"
  && streamedMessages[0].tool_calls[0].name === "weather" && streamedMessages[1].tool_call_id === "call_1"
  && chat.filter(c => c.event === "messages").every(c => typeof c.data[1].langgraph_node === "string"),
  "messages-tuple: each message a node writes, once", streamedMessages);
const chatState = await client.threads.getState(chatThread.thread_id);
check(chatState.values.messages.map(m => m.type).join() === "human,ai,tool,ai"
  && chatState.values.messages.every(m => typeof m.id === "string")
  && JSON.stringify(chatState.values.messages.slice(1).map(m => m.id)) === JSON.stringify(streamedMessages.map(m => m.id)),
  "messages state in LangChain's JSON", chatState.values);

// What a browser app asks first: /info (no SDK method for it)
const info = await (await fetch(`${apiUrl}/info`)).json();
check(typeof info.version === "string" && info.flags.assistants === true && info.flags.crons === true, "GET /info",
  info);
// Assistants (create / get / update / versions / setLatest / search / count / delete), per-run config and breakpoints
async function assistantChecks() {
  const created = await client.assistants.create({ graphId: "configured", name: "e2e assistant",
    config: { configurable: { model: "big", user: "ann" } }, context: { lang: "en" }, metadata: { e2e: "yes" } });
  check(created.graph_id === "configured" && created.version === 1 && created.name === "e2e assistant",
    "assistants.create", created);
  const got = await client.assistants.get(created.assistant_id);
  check(got.assistant_id === created.assistant_id && got.config.configurable.model === "big", "assistants.get", got);
  const updated = await client.assistants.update(created.assistant_id, { config: { configurable: { model: "small" } },
    metadata: { round: 2 } });
  check(updated.version === 2 && updated.metadata.e2e === "yes" && updated.metadata.round === 2,
    "assistants.update makes a new version", updated);
  const versions = await client.assistants.getVersions(created.assistant_id);
  check(versions.map(v => v.version).join() === "2,1", "assistants.getVersions", versions);
  const latest = await client.assistants.setLatest(created.assistant_id, 1);
  check(latest.version === 1 && latest.config.configurable.model === "big", "assistants.setLatest", latest);
  const found = await client.assistants.search({ metadata: { e2e: "yes" }, sortBy: "name", sortOrder: "asc",
    select: ["assistant_id", "name"] });
  check(found.length === 1 && found[0].assistant_id === created.assistant_id && found[0].graph_id === undefined,
    "assistants.search with sortBy and select", found);
  check(await client.assistants.count({ graphId: "configured" }) === 2, "assistants.count (own and created)", null);

  // a run of the created assistant: its config and context as defaults, the request's values over them
  const thread = await client.threads.create();
  const seen = (await client.runs.wait(thread.thread_id, created.assistant_id, { input: {},
    config: { configurable: { user: "bob" }, recursion_limit: 4 }, context: { tone: "dry" } })).seen;
  check(seen.configurable.model === "big" && seen.configurable.user === "bob" && seen.remaining === 4
    && seen.context.lang === "en" && seen.context.tone === "dry",
    "a run reads configurable, recursion_limit and context", seen);
  const loop = await client.runs.wait(null, "configured", { input: {}, config: { recursion_limit: 0 } })
    .then(() => null, (error) => error);
  check(loop !== null && loop.status === 422, "a bad recursion_limit is refused", String(loop));

  // a per-run breakpoint
  const paused = await client.threads.create();
  await client.runs.wait(paused.thread_id, "review_graph", { input: { topic: "owls" }, interruptBefore: ["draft"] });
  const pausedState = await client.threads.getState(paused.thread_id);
  check(pausedState.next.join() === "draft" && pausedState.values.text === undefined,
    "interruptBefore per run pauses before the node", pausedState);
  // a run paused at a breakpoint answers its last values chunk, as the reference's join does
  const drafted = await client.runs.wait(paused.thread_id, "review_graph", { input: null, interruptAfter: ["draft"] });
  check(JSON.stringify(drafted) === '{"__interrupt__":[]}', "runs.wait of a run paused at a breakpoint", drafted);
  const afterDraft = await client.threads.getState(paused.thread_id);
  check(afterDraft.values.text === "draft about owls", "interruptAfter per run", afterDraft);
  check(afterDraft.next.join() === "review", "paused after draft", afterDraft);

  await client.assistants.delete(created.assistant_id, { deleteThreads: true });
  const gone = await client.assistants.get(created.assistant_id).then(() => null, (error) => error);
  check(gone !== null && gone.status === 404, "assistants.delete", String(gone));
  const threadGone = await client.threads.get(thread.thread_id).then(() => null, (error) => error);
  check(threadGone !== null && threadGone.status === 404, "assistants.delete with deleteThreads", String(threadGone));
  const own = await client.assistants.delete("configured").then(() => null, (error) => error);
  check(own !== null && own.status === 409, "a graph's own assistant stays", String(own));
  // the last request answers 200 (JsClientTwoProcessesIT checks the last exchange)
  const left = await client.assistants.search({ graphId: "configured" });
  check(left.length === 1 && left[0].metadata.created_by === "system", "only the graph's own assistant is left", left);
}
await assistantChecks();

await drawingsSchemasAndStreamModes();
await threadStreamStateAndPruneChecks();
await storeCronAndRunChecks();
await remoteGraphChecks();
console.log("all checks passed");

// Issue 14 items 4 and 6: what Studio draws and builds its forms from, and the server's own stream modes
async function drawingsSchemasAndStreamModes() {
  const graph = await client.assistants.getGraph("drawn_chat");
  check(graph.nodes.map(n => n.id).join() === "__start__,model,polisher,__end__"
    && graph.edges.some(e => e.source === "model" && e.target === "polisher" && e.conditional === true)
    && graph.edges.some(e => e.source === "__start__" && e.target === "model" && !e.conditional),
    "assistants.getGraph", graph);
  const xray = await client.assistants.getGraph("drawn_chat", { xray: true });
  check(xray.nodes.some(n => n.id === "polisher:polish") && !xray.nodes.some(n => n.id === "polisher"),
    "assistants.getGraph with xray expands the subgraph", xray);
  const schemas = await client.assistants.getSchemas("drawn_chat");
  check(schemas.graph_id === "drawn_chat" && schemas.input_schema.properties.question.type === "string"
    && schemas.output_schema.properties.answer.type === "string" && schemas.state_schema.type === "object",
    "assistants.getSchemas", schemas);
  const subgraphs = await client.assistants.getSubgraphs("drawn_chat");
  check(Object.keys(subgraphs).join() === "polisher" && subgraphs.polisher.state_schema.type === "object",
    "assistants.getSubgraphs", subgraphs);
  const one = await client.assistants.getSubgraphs("drawn_chat", { namespace: "polisher", recurse: true });
  check(Object.keys(one).join() === "polisher", "assistants.getSubgraphs of a namespace", one);
  let refused;
  try {
    await client.assistants.getGraph("no_such_graph");
  } catch (error) {
    refused = error;
  }
  check(refused && refused.status === 404, "assistants.getGraph of an unknown assistant is a 404", String(refused));

  const thread = await client.threads.create();
  const messages = [];
  for await (const chunk of client.runs.stream(thread.thread_id, "drawn_chat", {
    input: { question: "2+2?" }, streamMode: "messages" })) {
    messages.push(chunk);
  }
  const partials = messages.filter(c => c.event === "messages/partial").map(c => c.data[0].content);
  const complete = messages.filter(c => c.event === "messages/complete");
  const metadata = messages.find(c => c.event === "messages/metadata");
  check(JSON.stringify(partials) === JSON.stringify(["It", "It is", "It is 4."])
    && metadata && Object.values(metadata.data)[0].metadata.langgraph_node === "model"
    && complete.length === 1 && complete[0].data[0].content === "It is 4." && complete[0].data[0].type === "ai",
    "streamMode messages: metadata, accumulated partials, complete once", messages);

  const events = [];
  for await (const chunk of client.runs.stream(thread.thread_id, "drawn_chat", {
    input: { question: "3+1?" }, streamMode: ["events"] })) {
    events.push(chunk);
  }
  const kinds = events.filter(c => c.event === "events").map(c => `${c.data.event}:${c.data.name}`);
  check(kinds[0] === "on_chain_start:drawn_chat" && kinds.at(-1) === "on_chain_end:drawn_chat"
    && kinds.includes("on_chain_start:model") && kinds.includes("on_chain_end:model")
    && kinds.filter(k => k.startsWith("on_chat_model_stream")).length === 3
    && kinds.indexOf("on_chat_model_start:chat_model") < kinds.indexOf("on_chat_model_end:chat_model"),
    "streamMode events: the run, its nodes and the model's stream", kinds);
  const end = events.filter(c => c.event === "events").at(-1).data;
  check(end.data.output.answer === "It is 4." && typeof end.run_id === "string" && Array.isArray(end.parent_ids),
    "on_chain_end of the run carries its output", end);
  const rejoined = [];
  for await (const chunk of client.runs.joinStream(thread.thread_id, events[0].data.run_id, { streamMode: "events" })) {
    rejoined.push(chunk);
  }
  check(JSON.stringify(rejoined) === JSON.stringify(events), "joinStream with streamMode events replays them", rejoined);
  const first = messages[0].data.run_id;
  const onlyPartials = [];
  for await (const chunk of client.runs.joinStream(thread.thread_id, first, { streamMode: ["messages"] })) {
    onlyPartials.push(chunk);
  }
  check(JSON.stringify(onlyPartials) === JSON.stringify(messages), "joinStream with streamMode messages", onlyPartials);
}

// Store, crons, and the runs API beyond streaming (issue 14 items 5, 7, 8): one check per SDK method.
async function storeCronAndRunChecks() {
  const { createServer } = await import("node:http");
  const root = `e2e${Date.now()}`;
  await client.store.putItem([root, "prefs"], "theme", { colour: "teal", size: 2 });
  await client.store.putItem([root, "notes"], "n1", { text: "hello", size: 1 }, { ttl: 60 });
  const item = await client.store.getItem([root, "prefs"], "theme");
  check(item && item.value.colour === "teal" && JSON.stringify(item.namespace) === JSON.stringify([root, "prefs"])
    && typeof item.createdAt === "string", "store.putItem / store.getItem", item);
  const refreshed = await client.store.getItem([root, "notes"], "n1", { refreshTtl: true });
  check(refreshed && refreshed.value.text === "hello", "store.getItem refreshTtl", refreshed);
  const found = await client.store.searchItems([root], { filter: { size: 2 }, limit: 5 });
  check(found.items.length === 1 && found.items[0].key === "theme", "store.searchItems filter", found);
  const everything = await client.store.searchItems([root]);
  check(everything.items.length === 2, "store.searchItems prefix", everything);
  const namespaces = await client.store.listNamespaces({ prefix: [root], maxDepth: 2 });
  check(JSON.stringify(namespaces.namespaces.map(n => n.join(".")).sort())
    === JSON.stringify([`${root}.notes`, `${root}.prefs`]), "store.listNamespaces", namespaces);
  await client.store.deleteItem([root, "prefs"], "theme");
  check(await client.store.getItem([root, "prefs"], "theme") === null, "store.deleteItem", null);
  let refusedQuery = false;
  try {
    await client.store.searchItems([root], { query: "teal things" });
  } catch (error) {
    refusedQuery = String(error).includes("422");
  }
  check(refusedQuery, "store.searchItems query refused without a search index", null);

  // crons
  const cronThread = await client.threads.create();
  const yearly = await client.crons.create("simple_workflow", { schedule: "0 0 1 1 *", input: { number: 1 },
    metadata: { e2e: root } });
  check(typeof yearly.cron_id === "string" && yearly.thread_id === null && typeof yearly.next_run_date === "string",
    "crons.create", yearly);
  const ticking = await client.crons.createForThread(cronThread.thread_id, "simple_workflow", {
    schedule: "* * * * * *", input: { number: 2 }, multitaskStrategy: "enqueue" });
  check(ticking.thread_id === cronThread.thread_id, "crons.createForThread", ticking);
  const byThread = await client.crons.search({ threadId: cronThread.thread_id });
  check(byThread.length === 1 && byThread[0].cron_id === ticking.cron_id, "crons.search", byThread);
  const counted = await client.crons.count({ threadId: cronThread.thread_id });
  check(counted === 1, "crons.count", counted);
  const updated = await client.crons.update(yearly.cron_id, { schedule: "0 12 * * *", enabled: false });
  check(updated.schedule === "0 12 * * *" && updated.enabled === false, "crons.update", updated);
  let fired = [];
  for (let i = 0; i < 100 && fired.length === 0; i++) {
    await new Promise(resolve => setTimeout(resolve, 100));
    fired = await client.runs.list(cronThread.thread_id);
  }
  check(fired.length >= 1, "a thread cron fires runs on its thread", fired);
  await client.crons.delete(ticking.cron_id);
  await client.crons.delete(yearly.cron_id);
  check((await client.crons.count({ threadId: cronThread.thread_id })) === 0, "crons.delete", null);

  // runs: stateless background, batch, cancel with and without wait, bulk cancel, webhook
  const stateless = await client.runs.create(null, "simple_workflow", { input: { number: 3 } });
  check(typeof stateless.run_id === "string", "runs.create stateless (background)", stateless);
  const batch = await client.runs.createBatch([
    { assistantId: "simple_workflow", input: { number: 4 } },
    { assistantId: "simple_workflow", input: { number: 5 } }]);
  check(Array.isArray(batch) && batch.length === 2 && batch.every(run => typeof run.run_id === "string"),
    "runs.createBatch", batch);
  const napThread = await client.threads.create();
  const nap = await client.runs.create(napThread.thread_id, "sleepy", { input: "zzz" });
  await client.runs.cancel(napThread.thread_id, nap.run_id, false);
  const napJoined = await client.runs.join(napThread.thread_id, nap.run_id);
  check(napJoined && napJoined.__error__ && napJoined.__error__.error === "RunCancelled",
    "runs.cancel without wait, then join", napJoined);
  const nap2 = await client.runs.create(napThread.thread_id, "sleepy", { input: "zzz" });
  await client.runs.cancel(napThread.thread_id, nap2.run_id, true, "rollback");
  const afterRollback = await client.runs.list(napThread.thread_id);
  check(afterRollback.every(run => run.run_id !== nap2.run_id), "runs.cancel wait rollback",
    { rolledBack: nap2.run_id, runs: afterRollback });
  const nap3 = await client.runs.create(napThread.thread_id, "sleepy", { input: "zzz" });
  const keyed = process.env.LANGGRAPH_API_KEY ? { "x-api-key": process.env.LANGGRAPH_API_KEY } : {};
  const bulk = await fetch(`${apiUrl}/runs/cancel`, { method: "POST",
    headers: { "content-type": "application/json", ...keyed }, body: JSON.stringify({ thread_id: napThread.thread_id, run_ids: [nap3.run_id] }) });
  check(bulk.status === 204, "POST /runs/cancel", bulk.status);
  const nap3Joined = await client.runs.join(napThread.thread_id, nap3.run_id);
  check(nap3Joined && nap3Joined.__error__, "a bulk-cancelled run ends cancelled", nap3Joined);

  // threads: supersteps, ttl, prune
  const seeded = await client.threads.create({ graphId: "simple_workflow",
    supersteps: [{ updates: [{ values: { message: "seeded" }, asNode: "simple_workflow" }] }] });
  const seededState = await client.threads.getState(seeded.thread_id);
  check(seededState.values.message === "seeded", "threads.create supersteps", seededState);
  const expiring = await client.threads.create({ ttl: 0.01 });
  let gone = false;
  for (let i = 0; i < 100 && !gone; i++) {
    await new Promise(resolve => setTimeout(resolve, 100));
    try {
      await client.threads.get(expiring.thread_id);
    } catch (error) {
      gone = String(error).includes("404");
    }
  }
  check(gone, "threads.create ttl: the thread is deleted once it expired", expiring);
  const prunable = await client.threads.create();
  const prunedAnswer = await fetch(`${apiUrl}/threads/prune`, { method: "POST",
    headers: { "content-type": "application/json", ...keyed },
    body: JSON.stringify({ thread_ids: [prunable.thread_id, seeded.thread_id] }) });
  const prunedBody = await prunedAnswer.json();
  check(prunedBody.pruned_count === 2, "POST /threads/prune", prunedBody);

  const deliveries = [];
  const receiver = createServer((request, response) => {
    let body = "";
    request.on("data", chunk => { body += chunk; });
    request.on("end", () => {
      deliveries.push(JSON.parse(body));
      response.writeHead(200).end();
    });
  });
  await new Promise(resolve => receiver.listen(0, "127.0.0.1", resolve));
  try {
    const hookThread = await client.threads.create();
    const hooked = await client.runs.create(hookThread.thread_id, "simple_workflow", { input: { number: 6 },
      webhook: `http://127.0.0.1:${receiver.address().port}/done` });
    for (let i = 0; i < 100 && deliveries.length === 0; i++) {
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    check(deliveries.length === 1 && deliveries[0].run_id === hooked.run_id && deliveries[0].status === "success"
      && deliveries[0].values.message === "The number is even.", "runs.create webhook", deliveries);
  } finally {
    receiver.close();
  }
}

// Issue 14 item 9: the SDK's RemoteGraph (@langchain/langgraph/remote, on its own copy of the client) uses a
// Fluxgraph assistant as a graph, on its own and as a node of a local LangGraph.js graph
async function remoteGraphChecks() {
  const { RemoteGraph } = await import("@langchain/langgraph/remote");
  const { Command, StateGraph, Annotation, GraphInterrupt, START, END } = await import("@langchain/langgraph");
  const remote = graphId => new RemoteGraph({ graphId, url: apiUrl, apiKey: process.env.LANGGRAPH_API_KEY });
  // RemoteGraph stops reading a run's stream at its interrupt, a moment before the server has recorded the run's
  // end; the next run on the thread waits for that (with two processes it would otherwise find the thread busy)
  const settled = async config => {
    for (let i = 0; i < 100; i++) {
      if ((await client.threads.get(config.configurable.thread_id)).status !== "busy") {
        return;
      }
      await new Promise(resolve => setTimeout(resolve, 50));
    }
    check(false, "the paused run's end is recorded", config);
  };

  // stateless: no thread id in the config
  const workflow = remote("simple_workflow");
  const stateless = await workflow.invoke({ number: 4 });
  check(stateless && stateless.message === "The number is even.", "RemoteGraph.invoke stateless", stateless);

  // on a thread the server creates (if_not_exists: create): invoke pauses, getState shows the interrupt
  const config = { configurable: { thread_id: crypto.randomUUID() } };
  const review = remote("review_graph");
  const paused = await review.invoke({ topic: "otters" }, config).then(() => null, error => error);
  check(paused instanceof GraphInterrupt && paused.interrupts[0].value === "approve draft about otters?",
    "RemoteGraph.invoke raises the pause as GraphInterrupt", String(paused));
  await settled(config);
  const state = await review.getState(config);
  check(state.next.length === 1 && state.next[0] === "review" && state.values.text === "draft about otters"
    && state.tasks[0].interrupts[0].value === "approve draft about otters?"
    && state.config.configurable.thread_id === config.configurable.thread_id
    && typeof state.config.configurable.checkpoint_id === "string", "RemoteGraph.getState", state);

  // resume with a Command, streaming several modes: [mode, chunk] pairs
  const resumed = [];
  for await (const chunk of await review.stream(new Command({ resume: "yes" }),
    { ...config, streamMode: ["updates", "values"] })) {
    resumed.push(chunk);
  }
  check(resumed.some(([mode, data]) => mode === "updates" && data.publish && data.publish.published === "draft about otters")
    && resumed.some(([mode, data]) => mode === "values" && data.verdict === "yes" && data.published),
    "RemoteGraph.stream with a Command and several modes", resumed);
  const single = [];
  for await (const chunk of await workflow.stream({ number: 5 }, { streamMode: "values" })) {
    single.push(chunk);
  }
  check(single.length > 0 && single[single.length - 1].message === "The number is odd.",
    "RemoteGraph.stream one mode: bare chunks", single);

  const history = [];
  for await (const snapshot of review.getStateHistory(config)) {
    history.push(snapshot);
  }
  check(history.length >= 4 && history[0].next.length === 0 && history[0].values.published === "draft about otters"
    && history.some(s => s.next[0] === "review")
    && history.every(s => typeof s.config.configurable.checkpoint_id === "string"), "RemoteGraph.getStateHistory",
    history.map(s => s.next));
  const limited = [];
  for await (const snapshot of review.getStateHistory(config, { limit: 2 })) {
    limited.push(snapshot);
  }
  check(limited.length === 2 && limited[0].config.configurable.checkpoint_id === history[0].config.configurable.checkpoint_id,
    "RemoteGraph.getStateHistory limit", limited.map(s => s.config));

  const updated = await review.updateState(config, { text: "edited" }, "review");
  check(updated.configurable.thread_id === config.configurable.thread_id
    && typeof updated.configurable.checkpoint_id === "string", "RemoteGraph.updateState", updated);
  const edited = await review.getState(config);
  check(edited.next[0] === "publish" && edited.values.text === "edited"
    && edited.config.configurable.checkpoint_id === updated.configurable.checkpoint_id,
    "RemoteGraph.getState after updateState", edited);
  const older = await review.getState(history[1].config);
  check(older.config.configurable.checkpoint_id === history[1].config.configurable.checkpoint_id,
    "RemoteGraph.getState at a checkpoint", older.config);

  // subgraphs: chunks with their namespace, which the paused task's config names
  const deskConfig = { configurable: { thread_id: crypto.randomUUID() } };
  const desk = remote("desk");
  const deskChunks = [];
  const deskPause = await (async () => {
    for await (const chunk of await desk.stream({ topic: "owls" }, { ...deskConfig, streamMode: "updates",
      subgraphs: true })) {
      deskChunks.push(chunk);
    }
  })().then(() => null, error => error);
  check(deskPause instanceof GraphInterrupt, "RemoteGraph.stream subgraphs: the subgraph's pause", String(deskPause));
  await settled(deskConfig);
  const nestedChunk = deskChunks.find(([namespace]) => namespace.length === 1);
  check(nestedChunk && nestedChunk[0][0].startsWith("write:") && nestedChunk[1].draft,
    "RemoteGraph.stream subgraphs: [namespace, chunk]", deskChunks);
  const deskState = await desk.getState(deskConfig);
  check(deskState.tasks[0].state.configurable.checkpoint_ns === nestedChunk[0][0],
    "RemoteGraph.getState: the subgraph task's config names its namespace", deskState.tasks[0]);
  const deskDeep = await desk.getState(deskConfig, { subgraphs: true });
  check(deskDeep.tasks[0].state.next[0] === "review"
    && deskDeep.tasks[0].state.config.configurable.checkpoint_ns === nestedChunk[0][0],
    "RemoteGraph.getState subgraphs: the subgraph's snapshot", deskDeep.tasks[0]);
  const deskDone = await desk.invoke(new Command({ resume: "yes" }), deskConfig);
  check(deskDone.verdict === "yes" && deskDone.text === "draft about owls", "RemoteGraph.invoke resumes a subgraph",
    deskDone);

  // the other stream modes: tasks, checkpoints, debug, and messages (sent as messages-tuple)
  const modesConfig = { configurable: { thread_id: crypto.randomUUID() } };
  const modes = [];
  await (async () => {
    for await (const chunk of await review.stream({ topic: "seals" },
      { ...modesConfig, streamMode: ["tasks", "checkpoints", "debug"] })) {
      modes.push(chunk);
    }
  })().catch(error => check(error instanceof GraphInterrupt, "RemoteGraph.stream: the pause", String(error)));
  const seen = new Set(modes.map(([mode]) => mode));
  check(seen.has("tasks") && seen.has("checkpoints") && seen.has("debug")
    && modes.some(([mode, data]) => mode === "tasks" && data.name === "draft" && data.triggers[0] === "branch:to:draft")
    && modes.some(([mode, data]) => mode === "checkpoints" && data.next[0] === "review"
      && data.config.configurable.thread_id === modesConfig.configurable.thread_id),
    "RemoteGraph.stream tasks, checkpoints, debug", modes);
  const chatted = [];
  for await (const chunk of await remote("chat_tools").stream(
    { messages: [{ role: "user", content: "Weather in Paris?" }] },
    { configurable: { thread_id: crypto.randomUUID() }, streamMode: ["messages", "values"] })) {
    chatted.push(chunk);
  }
  const chattedMessages = chatted.filter(([mode]) => mode === "messages").map(([, data]) => data[0]);
  check(chattedMessages.map(m => m.type).join() === "ai,tool,ai"
    && chatted[chatted.length - 1][1].messages.length === 4, "RemoteGraph.stream messages", chatted);

  // the run's config and context reach the graph; breakpoints given to the RemoteGraph
  const configured = await remote("configured").invoke({},
    { configurable: { model: "tiny" }, context: { tone: "dry" }, recursionLimit: 5 });
  check(configured.seen.configurable.model === "tiny" && configured.seen.context.tone === "dry"
    && configured.seen.remaining === 5, "RemoteGraph.invoke passes configurable, context and recursionLimit",
    configured);
  const gated = new RemoteGraph({ graphId: "review_graph", url: apiUrl, apiKey: process.env.LANGGRAPH_API_KEY,
    interruptBefore: ["draft"] });
  const gateConfig = { configurable: { thread_id: crypto.randomUUID() } };
  await gated.invoke({ topic: "gulls" }, gateConfig).catch(error => error);
  await settled(gateConfig);
  const gatedState = await gated.getState(gateConfig);
  check(gatedState.next.join() === "draft" && gatedState.values.text === undefined,
    "RemoteGraph interruptBefore", gatedState);

  // a node of a local graph
  const local = new StateGraph(Annotation.Root({ number: Annotation(), message: Annotation() }))
    .addNode("remote", workflow)
    .addEdge(START, "remote")
    .addEdge("remote", END)
    .compile();
  const composed = await local.invoke({ number: 3 });
  check(composed.message === "The number is odd.", "RemoteGraph as a node of a local graph", composed);
  // the last request answers 200 (JsClientTwoProcessesIT checks the last exchange)
  const last = await review.getState(config);
  check(last.next[0] === "publish", "RemoteGraph: the thread's state at the end", last.next);
}

// The thread's stream, its state's metadata and prune keep_latest (issue 14 item 7): threads.joinStream,
// threads.patchState, POST /threads/prune.
async function threadStreamStateAndPruneChecks() {
  const thread = await client.threads.create();
  await client.runs.wait(thread.thread_id, "simple_workflow", { input: { number: 2 } });
  const [earlier] = await client.runs.list(thread.thread_id);

  // a run started while the stream is open, seen live (lifecycle: its start and end only)
  const watching = new AbortController();
  const lifecycle = [];
  const watched = (async () => {
    for await (const chunk of client.threads.joinStream(thread.thread_id, { streamMode: "lifecycle",
      signal: watching.signal })) {
      lifecycle.push(chunk);
      if (chunk.event === "metadata" && chunk.data.status === "run_done") break;
    }
  })();
  await new Promise(resolve => setTimeout(resolve, 300));
  const later = await client.runs.create(thread.thread_id, "simple_workflow", { input: { number: 3 } });
  await watched;
  watching.abort();
  check(lifecycle.length === 2 && lifecycle[0].event === "metadata" && lifecycle[0].data.run_id === later.run_id
    && lifecycle[1].data.status === "run_done" && lifecycle[1].data.run_id === later.run_id
    && lifecycle[1].id === `${later.run_id}:done`, "threads.joinStream live, streamMode lifecycle", lifecycle);

  // replayed from the thread's first run ("-"), then resumed after the first run's end
  const replaying = new AbortController();
  const replayed = [];
  for await (const chunk of client.threads.joinStream(thread.thread_id, { lastEventId: "-", signal: replaying.signal })) {
    replayed.push(chunk);
    if (chunk.event === "metadata" && chunk.data.status === "run_done" && chunk.data.run_id === later.run_id) break;
  }
  replaying.abort();
  const firstEnd = replayed.findIndex(c => c.data.status === "run_done");
  check(replayed[0].event === "metadata" && replayed[0].data.run_id === earlier.run_id
    && replayed.slice(0, firstEnd).some(c => c.event === "values" && c.data.message === "The number is even.")
    && replayed.slice(firstEnd).some(c => c.event === "values" && c.data.message === "The number is odd."),
    "threads.joinStream from the start replays the thread's runs in order", replayed);
  const resuming = new AbortController();
  const resumed = [];
  for await (const chunk of client.threads.joinStream(thread.thread_id, { lastEventId: replayed[firstEnd].id,
    streamMode: ["run_modes"], signal: resuming.signal })) {
    resumed.push(chunk);
    if (chunk.event === "metadata" && chunk.data.status === "run_done") break;
  }
  resuming.abort();
  check(JSON.stringify(resumed) === JSON.stringify(replayed.slice(firstEnd + 1)),
    "threads.joinStream with lastEventId goes on after it", resumed);

  // patchState: the latest checkpoint's metadata, by thread id or by config; no new checkpoint
  const before = await client.threads.getState(thread.thread_id);
  await client.threads.patchState(thread.thread_id, { reviewed: "yes" });
  await client.threads.patchState({ configurable: { thread_id: thread.thread_id } }, { score: 5 });
  const patched = await client.threads.getState(thread.thread_id);
  check(patched.metadata.reviewed === "yes" && patched.metadata.score === 5
    && patched.checkpoint.checkpoint_id === before.checkpoint.checkpoint_id, "threads.patchState", patched);

  // prune keep_latest: the thread keeps its latest state only (this SDK has no threads.prune yet)
  const history = await client.threads.getHistory(thread.thread_id, { limit: 100 });
  const keyed = process.env.LANGGRAPH_API_KEY ? { "x-api-key": process.env.LANGGRAPH_API_KEY } : {};
  const pruned = await (await fetch(`${apiUrl}/threads/prune`, { method: "POST",
    headers: { "content-type": "application/json", ...keyed },
    body: JSON.stringify({ thread_ids: [thread.thread_id], strategy: "keep_latest" }) })).json();
  const kept = await client.threads.getHistory(thread.thread_id, { limit: 100 });
  const after = await client.threads.getState(thread.thread_id);
  check(pruned.pruned_count === 1 && history.length > 1 && kept.length === 1
    && JSON.stringify(after.values) === JSON.stringify(before.values) && after.metadata.reviewed === "yes",
    "threads.prune keep_latest", { pruned, history: history.length, kept: kept.length });
  await client.threads.delete(thread.thread_id);
}
