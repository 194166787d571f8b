// electron-builder afterPack hook (release builds): flips Electron's fuses in the packaged binary, before
// code signing. Referenced from electron-builder.yml; electron-builder.test.yml sets `afterPack: null`.
// CommonJS because electron-builder require()s hooks.
'use strict';
const path = require('node:path');

/**
 * The fuse settings for a release build on `platform`. Asar integrity validation needs the integrity
 * record electron-builder writes into the app: on macOS (Info.plist) electron-builder 25 does; on
 * Windows that arrived in electron-builder 26, so with 25 it stays off there (else the app refuses to start).
 */
function fuseSettings(platform, builderVersion) {
  const major = Number(String(builderVersion || '0').split('.')[0]);
  return {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: platform === 'darwin' || (platform === 'win32' && major >= 26),
    onlyLoadAppFromAsar: true,
    grantFileProtocolExtraPrivileges: false,
  };
}

function executablePath(context) {
  const { appOutDir, electronPlatformName, packager } = context;
  const name = packager.appInfo.productFilename;
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas') return path.join(appOutDir, `${name}.app`);
  if (electronPlatformName === 'win32') return path.join(appOutDir, `${name}.exe`);
  return path.join(appOutDir, packager.executableName);
}

async function afterPack(context) {
  const { flipFuses, FuseVersion, FuseV1Options } = require('@electron/fuses');
  const builderVersion = require('app-builder-lib/package.json').version;
  const s = fuseSettings(context.electronPlatformName, builderVersion);
  await flipFuses(executablePath(context), {
    version: FuseVersion.V1,
    // Flipping fuses invalidates the ad-hoc signature of arm64 macOS binaries; re-sign ad hoc (real signing follows).
    resetAdHocDarwinSignature: context.electronPlatformName === 'darwin' && context.arch === 3,
    [FuseV1Options.RunAsNode]: s.runAsNode,
    [FuseV1Options.EnableCookieEncryption]: s.enableCookieEncryption,
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: s.enableNodeOptionsEnvironmentVariable,
    [FuseV1Options.EnableNodeCliInspectArguments]: s.enableNodeCliInspectArguments,
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: s.enableEmbeddedAsarIntegrityValidation,
    [FuseV1Options.OnlyLoadAppFromAsar]: s.onlyLoadAppFromAsar,
    [FuseV1Options.GrantFileProtocolExtraPrivileges]: s.grantFileProtocolExtraPrivileges,
  });
}

module.exports = afterPack;
module.exports.default = afterPack;
module.exports.fuseSettings = fuseSettings;
module.exports.executablePath = executablePath;
