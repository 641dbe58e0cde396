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
const { t: resolveConfiguredToolPolicies, n: resolveEffectiveToolPolicy } = await import(D + "agent-tools.policy-CN7PMMey.mjs");
const { o: isToolAllowedByPolicies } = await import(D + "tool-policy-match-Bv2XOvEF.mjs");
const { l: mergeAlsoAllowPolicy } = await import(D + "tool-policy-YDdaK0oX.mjs");
const { d: resolveToolProfilePolicy } = await import(D + "tool-policy-shared-auQCQEhM.mjs");
const { r: resolveSandboxToolPolicyForAgent } = await import(D + "tool-policy-C8ci7WKM.mjs");
const jobs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = [];
for (const job of jobs) {
  const cfg = JSON5.parse(fs.readFileSync(job.file, "utf8"));
  const entry = job.agent === "defaults" ? undefined : cfg.agents?.entries?.[job.agent];
  let policies;
  if (entry?.model) {
    // With a model, the layers a run assembles (dispatch-from-config):
    // profile, provider profile, provider policies, global, agent, sandbox.
    const [modelProvider, modelId] = entry.model.split("/");
    const e = resolveEffectiveToolPolicy({ config: cfg, agentId: job.agent, modelProvider, modelId });
    policies = [
      mergeAlsoAllowPolicy(resolveToolProfilePolicy(e.profile), e.profileAlsoAllow),
      mergeAlsoAllowPolicy(resolveToolProfilePolicy(e.providerProfile), e.providerProfileAlsoAllow),
      e.globalProviderPolicy,
      e.agentProviderPolicy,
      e.globalPolicy,
      e.agentPolicy,
      job.mode === "all" ? resolveSandboxToolPolicyForAgent(cfg, job.agent) : undefined,
    ].filter(Boolean);
  } else {
    policies = resolveConfiguredToolPolicies({
      cfg,
      agentTools: entry?.tools,
      agentId: entry ? job.agent : undefined,
      sandboxMode: job.mode,
    });
  }
  out.push({ file: job.file, agent: job.agent, allowed: job.tools.filter((t) => isToolAllowedByPolicies(t, policies)) });
}
console.log(JSON.stringify(out));
