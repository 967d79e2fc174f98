// The classic example's worker (aws-sdk v2, as the common public write-ups of this pattern have it), kept as written for comparison in `npm run bench`.
// One change: aws-sdk v2 ignores AWS_ENDPOINT_URL_SFN, so the endpoint is passed explicitly.
// Its defects (swallowed errors, whole tokens in logs, sequential awaits) are the point of the comparison.
console.log("Loading function");

var AWS = require("aws-sdk");
var stepfunctions = new AWS.StepFunctions({ apiVersion: "2016-11-23", endpoint: process.env.AWS_ENDPOINT_URL_SFN });

exports.lambda_handler = async (event, context, callback) => {
    console.log("event: %j", event);

    for (let i = 0; i < event.Records.length; i++) {
        let record = event.Records[i];

        const messageBody = JSON.parse(record.body);
        const taskToken = messageBody.TaskToken;

        const params = {
            output: '"Callback task completed successfully."',
            taskToken: taskToken,
        };

        console.log(`Calling Step Functions to complete callback task with params ${JSON.stringify(params)}`);
        try {
            let response = await stepfunctions.sendTaskSuccess(params).promise();
            console.log("response: %j", response);
        } catch (err) {
            console.log("err:" + err);
        }
    }
};
