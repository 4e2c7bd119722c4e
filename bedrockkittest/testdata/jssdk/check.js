// Drives FakeBedrock with the AWS SDK for JavaScript v3 (an independent,
// conforming client) and prints the outcome of every call as one JSON
// object. Run by TestJavaScriptSDKAgainstFakeBedrock (see run.sh), which
// scripts the fake and checks the output. Usage: node check.js <endpoint>
"use strict";
const rt = require("@aws-sdk/client-bedrock-runtime");

const endpoint = process.argv[2];
const client = new rt.BedrockRuntimeClient({
  region: "us-east-1",
  endpoint,
  maxAttempts: 1,
  credentials: { accessKeyId: "AKIDJSCHECK", secretAccessKey: "fake-secret" },
});
const model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const base = "anthropic.claude-sonnet-4-5-20250929-v1:0";
const user = (text) => ({ role: "user", content: [{ text }] });
const out = {};

async function attempt(name, fn) {
  try {
    out[name] = { ok: true, value: await fn() };
  } catch (err) {
    out[name] = { ok: false, name: err.name, message: err.message, status: err.$metadata && err.$metadata.httpStatusCode };
  }
}

const toolConfig = { tools: [{ toolSpec: { name: "lookup", inputSchema: { json: { type: "object" } } } }] };
const toolUse = (id) => ({ toolUse: { toolUseId: id, name: "lookup", input: {} } });
const toolResult = (id) => ({ toolResult: { toolUseId: id, content: [{ text: "ok" }] } });

const invalid = {
  startsWithAssistant: { messages: [{ role: "assistant", content: [{ text: "hi" }] }, user("hi")] },
  twoUserTurns: { messages: [user("a"), user("b")] },
  resultWithoutUse: { messages: [user("a"), { role: "assistant", content: [{ text: "b" }] }, { role: "user", content: [toolResult("t9")] }], toolConfig },
  useNotAnswered: { messages: [user("a"), { role: "assistant", content: [toolUse("t1")] }, user("next")], toolConfig },
  toolBlocksWithoutConfig: { messages: [user("a"), { role: "assistant", content: [toolUse("t1")] }, { role: "user", content: [toolResult("t1")] }] },
  maxTokensZero: { messages: [user("a")], inferenceConfig: { maxTokens: 0 } },
  temperatureTooHigh: { messages: [user("a")], inferenceConfig: { temperature: 1.5 } },
  blankText: { messages: [{ role: "user", content: [{ text: " " }] }] },
  emptyContent: { messages: [user("a"), { role: "assistant", content: [] }] },
  thinkingWithForcedTool: { messages: [user("a")], toolConfig: { ...toolConfig, toolChoice: { any: {} } }, additionalModelRequestFields: { thinking: { type: "enabled", budget_tokens: 1024 } } },
};

(async () => {
  await attempt("converse", async () => {
    const r = await client.send(new rt.ConverseCommand({ modelId: model, messages: [user("hi")], serviceTier: { type: "flex" } }));
    return { text: r.output.message.content[0].text, stopReason: r.stopReason, tier: r.serviceTier && r.serviceTier.type, input: r.usage.inputTokens };
  });
  await attempt("structured", async () => {
    const r = await client.send(new rt.ConverseCommand({
      modelId: model, messages: [user("extract")],
      outputConfig: { textFormat: { type: "json_schema", structure: { jsonSchema: { name: "invoice", schema: JSON.stringify({ type: "object", properties: { total: { type: "number" } }, required: ["total"] }) } } } },
    }));
    return { text: r.output.message.content[0].text };
  });
  await attempt("stream", async () => {
    const r = await client.send(new rt.ConverseStreamCommand({ modelId: model, messages: [user("hi")] }));
    let text = "", stop = "", output = 0;
    for await (const ev of r.stream) {
      if (ev.contentBlockDelta && ev.contentBlockDelta.delta.text) text += ev.contentBlockDelta.delta.text;
      if (ev.messageStop) stop = ev.messageStop.stopReason;
      if (ev.metadata) output = ev.metadata.usage.outputTokens;
    }
    return { text, stop, output };
  });
  for (const [name, input] of Object.entries(invalid)) {
    await attempt("invalid." + name, () => client.send(new rt.ConverseCommand({ modelId: model, ...input })));
  }
  await attempt("invalid.badModelId", () => client.send(new rt.ConverseCommand({ modelId: "not a model", messages: [user("a")] })));
  await attempt("invalid.bareProfileModel", () => client.send(new rt.ConverseCommand({ modelId: "anthropic.claude-3-7-sonnet-20250219-v1:0", messages: [user("a")] })));
  await attempt("countTokens", async () => {
    const r = await client.send(new rt.CountTokensCommand({ modelId: base, input: { converse: { messages: [user("Hello there, how are you?")] } } }));
    return { tokens: r.inputTokens };
  });
  await attempt("invalid.countTokensProfile", () => client.send(new rt.CountTokensCommand({ modelId: model, input: { converse: { messages: [user("x")] } } })));
  await attempt("invokeStream", async () => {
    const r = await client.send(new rt.InvokeModelWithResponseStreamCommand({ modelId: model, body: JSON.stringify({ messages: [] }) }));
    const chunks = [];
    for await (const ev of r.body) {
      if (ev.chunk) chunks.push(JSON.parse(Buffer.from(ev.chunk.bytes).toString("utf8")));
    }
    return { chunks };
  });
  await attempt("invalid.rawJsonBlock", async () => {
    const r = await fetch(endpoint + "/model/" + encodeURIComponent(model) + "/converse", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: [{ text: "a" }, { json: { x: 1 } }] }] }),
    });
    const body = await r.json();
    const err = new Error(body.message);
    err.name = r.headers.get("x-amzn-errortype");
    err.$metadata = { httpStatusCode: r.status };
    throw err;
  });
  process.stdout.write(JSON.stringify(out) + "\n");
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
