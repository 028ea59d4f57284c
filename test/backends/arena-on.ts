// Imported first by the arena tests: the arena is opt-in (TENSORGRAD_ARENA=1, src/backends/cpu/arena.ts),
// and the float32 kernel reads the switch when it is first instantiated, after this module ran.
process.env.TENSORGRAD_ARENA = '1';
