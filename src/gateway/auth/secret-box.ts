/**
 * The gateway's box for TOTP secrets is Troupe's one secret box (`src/config/secret-box.ts`,
 * shared with the Kite session store); re-exported here for the gateway's modules.
 */
export { legacySecretKeyFiles, loadSecretKey, openSecretBox, parseSecretKey, SecretBox, SecretBoxError, secretKeyFile, type SecretKeys, type SecretKeySource } from '../../config/secret-box.js';
