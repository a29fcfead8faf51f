# Stage not built yet: its aggregate target exists so that the DAG's names are stable.


rule figures:
    input:
        [],
