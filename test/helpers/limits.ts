import { loadSettings, type Settings } from '../../src/config/settings.ts';

export const defaultSettings = loadSettings({});

/** The abuse limits exactly as a server started without settings has them (test servers relax them). */
export const productionLimits: Partial<Settings> = {
  sendCodeUserInterval: defaultSettings.sendCodeUserInterval,
  sendCodeUserPerHour: defaultSettings.sendCodeUserPerHour,
  sendCodeAddressPerHour: defaultSettings.sendCodeAddressPerHour,
  loginFailuresPerUser: defaultSettings.loginFailuresPerUser,
  loginFailuresPerAddress: defaultSettings.loginFailuresPerAddress,
  loginBlockSeconds: defaultSettings.loginBlockSeconds,
  registerAddressPerHour: defaultSettings.registerAddressPerHour,
  verifyMailAddressPerHour: defaultSettings.verifyMailAddressPerHour,
  verifyMailTargetInterval: defaultSettings.verifyMailTargetInterval,
  verifyMailTargetPerHour: defaultSettings.verifyMailTargetPerHour,
};
