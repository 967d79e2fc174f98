/**
 * `callback-workflow/local`: run a workflow of your own Pulumi program offline (see run.ts), and the
 * pieces it is made of. The command is `callback-workflow-local` (run-cli.ts).
 */
export { runLocally, findProject, type LocalRunReport, type RunLocallyOptions } from "./run";
export {
    LocalHarness,
    runnableDefinition,
    type EngineOptions,
    type Execution,
    type ExecutionStatus,
    type Faults,
    type LocalTaskHandler,
    type SnsMessage,
    type StateFailure,
    type TraceEvent,
} from "./engine";
export {
    EXPECTED_STATUSES,
    describeExpectation,
    meetsExpectation,
    parseExpectation,
    type Expectation,
    type ExpectedStatus,
} from "./expectation";
export {
    evaluateProgram,
    ProgramError,
    readProgram,
    selectStateMachine,
    type LocalProgram,
    type LocalQueue,
    type LocalStateMachine,
    type LocalWorker,
} from "./program";
export { interpreterVersion, LocalRunError, supportProblems, walkStates, type WalkedState } from "./support";
