/** The part of jstat (no published types) that the report uses. */
declare module 'jstat' {
  const jStat: {
    studentt: {
      /** Quantile of Student's t distribution with `dof` degrees of freedom. */
      inv(p: number, dof: number): number;
    };
  };
  export default jStat;
}
