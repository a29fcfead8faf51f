# Stage not built yet: its aggregate target exists so that the DAG's names are stable.


rule reports:
    input:
        [],


rule metrics:
    input:
        "results/metrics/clearstem.csv",
        "results/metrics/detection.csv",
