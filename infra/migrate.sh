#!/usr/bin/env bash
# Runs the Sluice migration task once and waits for it:
#   infra/migrate.sh cdk-outputs.json                    apply the migrations
#   infra/migrate.sh cdk-outputs.json --grant-app-login  give role sluice_app its login (once)
# cdk-outputs.json is the file `cdk deploy --outputs-file` writes; STACK names the stack
# (default Sluice). Exits with the task's exit code, so a rollout script stops when it
# fails. Needs the AWS CLI v2 and Node.
set -euo pipefail

outputs=${1:?usage: infra/migrate.sh cdk-outputs.json [--grant-app-login]}
mode=${2:-migrate}
stack=${STACK:-Sluice}
out() {
  node -e '
    const [file, stack, key] = process.argv.slice(1);
    const value = JSON.parse(require("fs").readFileSync(file, "utf8"))[stack]?.[key];
    if (typeof value !== "string" || value === "") {
      console.error(`migrate: ${file} has no output ${key} for stack ${stack}`);
      process.exit(2);
    }
    process.stdout.write(value);
  ' "$outputs" "$stack" "$1"
}

# --grant-app-login: the same task, as the owner, sets the app secret's password (which ECS
# injects as APP_DATABASE_PASSWORD; letters and digits only) on the role the API and worker
# log in as. Run it again after rotating that secret.
grant='
const pg = require("./packages/db/node_modules/pg");
const password = process.env.APP_DATABASE_PASSWORD ?? "";
if (!/^[A-Za-z0-9]{20,}$/.test(password)) throw new Error("APP_DATABASE_PASSWORD: expected the generated secret");
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
client
  .connect()
  .then(() => client.query(`ALTER ROLE sluice_app WITH LOGIN PASSWORD '"'"'${password}'"'"'`))
  .then(() => client.end())
  .then(() => console.log("sluice_app may log in with the app secret"), (error) => { console.error(error.message); process.exit(1); });
'
case "$mode" in
  migrate) overrides='{}' ;;
  --grant-app-login) overrides=$(node -e 'console.log(JSON.stringify({ containerOverrides: [{ name: "migrate", command: ["node", "-e", process.argv[1]] }] }))' "$grant") ;;
  *) echo "migrate: unknown option $mode" >&2; exit 2 ;;
esac

cluster=$(out ClusterName)
definition=$(out MigrateTaskDefinition)
network="awsvpcConfiguration={subnets=[$(out AppSubnets)],securityGroups=[$(out MigrateSecurityGroupId)],assignPublicIp=DISABLED}"
echo "migrate: running $definition ($mode, image tag $(out MigrationImageTag)) on $cluster"
task=$(aws ecs run-task --cluster "$cluster" --task-definition "$definition" --launch-type FARGATE \
  --network-configuration "$network" --overrides "$overrides" --started-by sluice-migrate \
  --query 'tasks[0].taskArn' --output text)
if [ -z "$task" ] || [ "$task" = "None" ]; then
  echo "migrate: the task did not start" >&2
  exit 1
fi
echo "migrate: $task started; waiting for it to stop (logs: aws logs tail /sluice/$stack/migrate --follow)"
aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task"
code=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].containers[0].exitCode' --output text)
reason=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].stoppedReason' --output text)
if [ "$code" != "0" ]; then
  echo "migrate: failed (exit code $code; $reason)" >&2
  exit "${code/None/1}"
fi
echo "migrate: done"
