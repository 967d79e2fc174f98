/**
 * What a Task state needs besides its ASL: the IAM statements its integration needs (the state machine's
 * role gets their union) and, for a callback task, the channel whose answerers must be allowed to answer
 * it. Kept under a symbol key on the state object: object spread keeps it, JSON never shows it, so the
 * state stays plain ASL wherever it goes.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { PolicyStatement } from "./iam";

/** `Symbol.for`, so that two copies of this package in one program still recognise each other's tasks. */
export const TASK_GRANTS: unique symbol = Symbol.for("callback-workflow/task-grants") as never;

/** A channel whose tasks a state machine waits on: it grants its answerers on that machine. */
export interface AnsweringChannel {
    /** The channel's name, for the names of the grants. */
    readonly channelName: string;
    /**
     * Lets every answerer of the channel answer the tasks of one state machine (`states:SendTask*` on
     * exactly its ARN, and its key when it has one), as resources parented to `scope`.
     */
    grantAnswers(grant: AnswerGrant): void;
}

export interface AnswerGrant {
    /** The component that owns the grants (the workflow), and whose name they carry. */
    readonly scope: pulumi.Resource;
    readonly scopeName: string;
    readonly stateMachineArn: pulumi.Input<string>;
    /** The state machine's customer key, when it has one: answering needs it too. */
    readonly kmsKeyArn?: pulumi.Input<string>;
    readonly opts?: pulumi.CustomResourceOptions;
}

export interface TaskGrants {
    /** What the state machine's role needs for this task. */
    readonly statements: readonly PolicyStatement[];
    /** The channel that answers the task, for a callback task. */
    readonly answeredBy?: AnsweringChannel;
}

/** `state` with its grants attached. */
export function withGrants<T extends object>(state: T, grants: TaskGrants): T {
    return Object.assign({ ...state }, { [TASK_GRANTS]: grants });
}

/** The grants attached to a state, if any. */
export function grantsOf(state: unknown): TaskGrants | undefined {
    return typeof state === "object" && state !== null
        ? (state as { [TASK_GRANTS]?: TaskGrants })[TASK_GRANTS]
        : undefined;
}
