// Runs @doyensec/electronegativity programmatically and prints {issues, errors, checks} as JSON.
// Offline by construction: its only network use (fetching updated translations with `got`) is replaced
// by an immediate failure, which it already tolerates; AvailableSecurityFixesGlobalCheck (which asks the
// internet for Electron releases) is excluded by the caller.
//   node electronegativity-run.cjs <input> <electronVersion> <excludedChecks,…>
'use strict';
const Module = require('node:module');
const origLoad = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === 'got') {
    const offline = () => Promise.reject(new Error('offline: network disabled for the audit'));
    return Object.assign(offline, { default: offline });
  }
  return origLoad.call(this, request, parent, isMain);
};
const silence = console.log;
console.log = () => undefined; // its "could not retrieve translations" chatter; results go to stdout below

const [input, electronVersion, exclude] = process.argv.slice(2);
const run = require('@doyensec/electronegativity');
run({
  input,
  electronVersionOverride: electronVersion,
  excludeFromScan: (exclude || '').split(',').filter(Boolean),
  isRelative: true,
  parserPlugins: [],
})
  .then((r) => {
    const issues = r.issues.map((i) => ({
      id: i.id,
      file: i.file,
      line: i.location.line,
      column: i.location.column,
      severity: i.severity.name,
      severityValue: i.severity.value,
      confidence: i.confidence.name,
      manualReview: Boolean(i.manualReview),
      sample: String(i.sample || '').slice(0, 200),
    }));
    process.stdout.write(JSON.stringify({ globalChecks: r.globalChecks, atomicChecks: r.atomicChecks, errors: r.errors, issues }));
  })
  .catch((err) => {
    console.log = silence;
    process.stderr.write(`electronegativity failed: ${err && err.stack ? err.stack : err}\n`);
    process.exit(2);
  });
