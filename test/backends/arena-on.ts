// Imported first by the arena tests: they test the arena, so it is on even when the suite runs with
// TENSORGRAD_ARENA=0 (src/backends/cpu/arena.ts); the float32 kernel reads the switch when it is first
// instantiated, after this module ran.
process.env.TENSORGRAD_ARENA = '1';
