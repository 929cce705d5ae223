export * from './limits';
export * from './events';
export * from './envelope';
export * from './engine';
export * from './memoryEngine';
export * from './text';
export * from './owners';
export * from './busAnswers';
