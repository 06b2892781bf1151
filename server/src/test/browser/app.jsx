// The page under test: a human-in-the-loop UI built on the SDK's React hook useStream, as agent-chat-ui is.
// Query parameters: api (the Fluxgraph server), key (its API key), assistant (the graph), thread (to reopen one).
import React, { useState } from "react";
import { createRoot } from "react-dom/client";
import { useStream } from "@langchain/langgraph-sdk/react";

const params = new URLSearchParams(window.location.search);

function App() {
  const [threadId, setThreadId] = useState(params.get("thread"));
  const [runId, setRunId] = useState("");
  const [failure, setFailure] = useState("");
  const [topic, setTopic] = useState("");
  const [gate, setGate] = useState("");
  const [answer, setAnswer] = useState("");
  const stream = useStream({
    apiUrl: params.get("api"),
    apiKey: params.get("key") ?? undefined,
    assistantId: params.get("assistant"),
    threadId,
    onThreadId: (id) => {
      setThreadId(id);
      const next = new URLSearchParams(window.location.search);
      next.set("thread", id);
      window.history.replaceState(null, "", `?${next}`); // a reload reopens this thread
    },
    reconnectOnMount: true, // the run id is kept in sessionStorage: a reload rejoins a running run
    onCreated: (run) => setRunId(run.run_id),
    onError: (error) => setFailure(String(error?.message ?? error)),
  });
  const interrupt = stream.interrupt;
  return (
    <main>
      <p>thread <span id="thread">{threadId ?? ""}</span> run <span id="run">{runId}</span>
        {" "}loading <span id="loading">{String(stream.isLoading)}</span></p>
      <pre id="values">{JSON.stringify(stream.values)}</pre>
      <pre id="interrupt">{interrupt && interrupt.value !== undefined ? JSON.stringify(interrupt.value) : ""}</pre>
      <pre id="error">{failure || (stream.error ? String(stream.error?.message ?? stream.error) : "")}</pre>
      <input id="topic" value={topic} onChange={(e) => setTopic(e.target.value)} placeholder="topic" />
      <input id="gate" value={gate} onChange={(e) => setGate(e.target.value)} placeholder="gate" />
      <button id="submit" onClick={() => stream.submit({ topic, gate })}>submit</button>
      <input id="answer" value={answer} onChange={(e) => setAnswer(e.target.value)} placeholder="answer" />
      <button id="resume" onClick={() => stream.submit(undefined, { command: { resume: answer } })}>resume</button>
      <button id="stop" onClick={() => stream.stop()}>stop</button>
    </main>
  );
}

createRoot(document.getElementById("root")).render(<App />);
