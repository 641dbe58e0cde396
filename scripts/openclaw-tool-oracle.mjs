// The OpenClaw runtime's own tool-policy functions as an oracle for wpc's
// effective-tool computation (tests/fixtures/openclaw/runtime/).
//
//   PREFIX=... node24 scripts/openclaw-tool-oracle.mjs JOBS.json
//
// JOBS.json: [{file, agent ("defaults" or an agents.entries id), mode (sandbox
// mode), tools: [names]}]; prints [{file, agent, allowed: [names]}]. PREFIX holds
// the npm install of openclaw@2026.9.6 (see scripts/openclaw-real-audit.sh); the
// module file names below are those of that build.
import fs from "node:fs";
const prefix = process.env.PREFIX;
if (!prefix) throw new Error("set PREFIX");
const D = `${prefix}/oc/node_modules/openclaw/dist/`;
const JSON5 = (await import(`${prefix}/oc/node_modules/json5/lib/index.js`)).default;
const { t: resolveConfiguredToolPolicies } = await import(D + "agent-tools.policy-CN7PMMey.mjs");
const { o: isToolAllowedByPolicies } = await import(D + "tool-policy-match-Bv2XOvEF.mjs");
const jobs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = [];
for (const job of jobs) {
  const cfg = JSON5.parse(fs.readFileSync(job.file, "utf8"));
  const agentTools = job.agent === "defaults" ? undefined : cfg.agents?.entries?.[job.agent]?.tools;
  const policies = resolveConfiguredToolPolicies({
    cfg,
    agentTools,
    agentId: job.agent === "defaults" ? undefined : job.agent,
    sandboxMode: job.mode,
  });
  out.push({ file: job.file, agent: job.agent, allowed: job.tools.filter((t) => isToolAllowedByPolicies(t, policies)) });
}
console.log(JSON.stringify(out));
