// CSS imports, for the type check.
declare module '*.css';
