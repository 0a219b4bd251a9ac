export { WORKSPACE_ROOT, freePort, startBuiltApp, type BuiltApp } from '@taskq/testing';
