export { defineLuaScripts } from './lua-scripts';
export type { LuaScripts, LuaScriptSpec } from './lua-scripts';
