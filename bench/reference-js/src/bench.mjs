// The same 1-task workflow as Fluxgraph's ServerBenchmark: an entrypoint calling a task that adds one.
import { entrypoint, task } from "@langchain/langgraph";

const addOne = task("add_one", async (n) => n + 1);

export const graph = entrypoint({ name: "bench" }, async (n) => addOne(n));
